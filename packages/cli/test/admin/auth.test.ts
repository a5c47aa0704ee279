import { test } from "node:test";
import assert from "node:assert/strict";
import { bearerToken, tokenMatches } from "../../src/admin/auth.js";

test("bearer tokens are read from the Authorization header (RFC 6750 §2.1)", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bearer  abc "), "abc");
  assert.equal(bearerToken("Basic abc"), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test("tokens match exactly, whatever their lengths", () => {
  assert.equal(tokenMatches("secret-token", "secret-token"), true);
  assert.equal(tokenMatches("secret-token", "secret-toke"), false);
  assert.equal(tokenMatches("secret-token", "secret-tokenn"), false);
  assert.equal(tokenMatches("secret-token", undefined), false);
  assert.equal(tokenMatches("secret-token", ""), false);
});
