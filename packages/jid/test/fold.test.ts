import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { foldDomainpart, foldLocalpart, foldResourcepart } from "../src/fold.js";

test("localpart: width mapping, lower case, NFC (RFC 8265 §3.3.2)", () => {
  assert.equal(foldLocalpart("E\u0301LODIE"), "\u00e9lodie");
  assert.equal(foldLocalpart("\uff41\uff42"), "ab");
});

test("domainpart: lower case, NFC, trailing dot removed (RFC 7622 §3.2)", () => {
  assert.equal(foldDomainpart("Exe\u0301mple.TEST."), "ex\u00e9mple.test");
});

test("resourcepart: NFC only (RFC 7622 §3.4.2)", () => {
  assert.equal(foldResourcepart("Phone E\u0301"), "Phone \u00c9");
});

test("folding is idempotent", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme-composite" }), (s) => {
      assert.equal(foldLocalpart(foldLocalpart(s)), foldLocalpart(s));
      assert.equal(foldResourcepart(foldResourcepart(s)), foldResourcepart(s));
    }),
  );
});
