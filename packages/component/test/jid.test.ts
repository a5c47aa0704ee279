import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJid, bareJid, fullJid, toBare } from "../src/jid.js";

test("parses and folds case of local and domain parts, keeps the resource", () => {
  const jid = parseJid("Alice@Example.TEST/Phone X");
  assert.deepEqual(jid, { local: "alice", domain: "example.test", resource: "Phone X" });
  assert.equal(bareJid(jid), "alice@example.test");
  assert.equal(fullJid(jid), "alice@example.test/Phone X");
  assert.equal(toBare("room@muc.test/nick/with/slashes"), "room@muc.test");
  assert.equal(parseJid("muc.test")?.local, "");
});

test("rejects malformed JIDs", () => {
  for (const bad of ["", "@d.test", "a@", "a@b@c", "a@d.test/", "a b@", "x@has space"]) {
    assert.equal(parseJid(bad), undefined, bad);
  }
  assert.equal(toBare(undefined), undefined);
});
