import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { domainOf, InvalidJidError, localpartOf, normaliseBareJid, normaliseDomain } from "../src/index.js";

describe("bare JID normalisation (RFC 7622, simple rules)", () => {
  test("lowercases localpart and domain, strips a trailing dot", () => {
    assert.equal(normaliseBareJid("Alice@Example.MIL"), "alice@example.mil");
    assert.equal(normaliseBareJid("Example.MIL."), "example.mil");
    assert.equal(normaliseDomain("Rooms.Example.mil"), "rooms.example.mil");
    assert.equal(normaliseBareJid("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
    assert.equal(normaliseBareJid("a@[::1]"), "a@[::1]");
    assert.equal(domainOf("a@b.c"), "b.c");
    assert.equal(localpartOf("a@b.c"), "a");
    assert.equal(localpartOf("b.c"), "");
  });

  test("rejects malformed JIDs with a typed error", () => {
    for (const bad of [
      "",
      "@x.y",
      "a@",
      "a@b@c",
      "a@b/res",
      "a b@c",
      'a"b@c',
      "a:b@c",
      "a@-x.y",
      "a@x..y",
      `${"a".repeat(1024)}@x.y`,
      "a\u0001@x.y",
    ]) {
      assert.throws(
        () => normaliseBareJid(bad),
        (e: unknown) => e instanceof InvalidJidError && e.code === "CORDON_STORE_INVALID_JID",
        bad,
      );
    }
  });

  test("normalisation is idempotent", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z0-9._*()\\-]{1,20}$/),
        fc.stringMatching(/^[a-zA-Z0-9]{1,10}(\.[a-zA-Z0-9]{1,10}){0,3}$/),
        (l, d) => {
          const once = normaliseBareJid(`${l}@${d}`);
          assert.equal(normaliseBareJid(once), once);
        },
      ),
    );
  });
});
