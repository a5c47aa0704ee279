import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeEssLabel, encodeEssLabel } from "../../src/formats/ess.js";
import { decodeBerClearance, encodeBerClearance } from "../../src/formats/clearance-ber.js";
import { makeLabel, sameLabel } from "../../src/label.js";
import { makeClearance } from "../../src/clearance.js";
import { MalformedEncodingError, MissingPolicyError, UnsupportedFormatError } from "../../src/errors.js";
import { corpusFile, registryOf } from "../corpus.js";

const r = registryOf("food-policy.xml", "nato-4774-policy.xml", "tlp-plus.xml");
const policies = r.policies();

describe("ESS labels", () => {
  test("corpus DER labels decode, keep their bytes, and re-encode to an equal label", () => {
    const bytes = corpusFile("food-label-milk-chocolate.ber");
    const l = decodeEssLabel(bytes, r);
    assert.equal(l.classification.name, "Luxury");
    assert.deepEqual(
      l.categories.map((c) => c.name),
      ["Sweet", "Chocolate", "Brown", "Lactose", "Not Vegan", "Animal Rights"],
    );
    assert.equal(encodeEssLabel(l), bytes);
    assert.ok(sameLabel(decodeEssLabel(encodeEssLabel(l, { reencode: true }), r), l));
  });

  test("privacy mark is kept for display; missing policy is typed", () => {
    assert.throws(() => decodeEssLabel(corpusFile("label-1.ber"), r), MissingPolicyError);
  });

  test("trailing bytes and unknown category syntaxes are rejected", () => {
    const bytes = corpusFile("food-label-bacon.ber");
    assert.throws(() => decodeEssLabel(Uint8Array.from([...bytes, 0]), r), MalformedEncodingError);
    const l = decodeEssLabel(bytes, r);
    const der = encodeEssLabel(l, { reencode: true });
    const hex = Buffer.from(der).toString("hex").replace("608648016502010803", "608648016502010809");
    assert.throws(() => decodeEssLabel(Buffer.from(hex, "hex"), r), UnsupportedFormatError);
  });

  test("property: DER serialise∘parse is the identity", () => {
    const arb = fc
      .constantFrom(...policies)
      .chain((p) =>
        fc.tuple(
          fc.constant(p),
          fc.constantFrom(...p.classifications),
          fc.subarray([...p.categories], { maxLength: Math.min(12, p.categories.length) }),
          fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        ),
      );
    fc.assert(
      fc.property(arb, ([p, cls, cats, mark]) => {
        const l = makeLabel(p, cls, cats, { privacyMark: mark });
        const der = encodeEssLabel(l);
        const back = decodeEssLabel(der, r);
        assert.ok(sameLabel(back, l));
        assert.equal(back.privacyMark, mark);
        assert.deepEqual(encodeEssLabel(back, { reencode: true }), der);
      }),
      { numRuns: 500 },
    );
  });
});

describe("BER clearances", () => {
  test("ACP-145 and SSLPrivileges clearances decode", () => {
    const c = decodeBerClearance(corpusFile("food-clearance-all-okay.ber"), r);
    assert.deepEqual(
      c.classifications.map((x) => x.name),
      ["Commodity", "Luxury"],
    );
    const missi = decodeBerClearance(
      corpusFile("food-clearance-lactose-intolerant-missi.ber"),
      registryOf("food-policy-missi.xml"),
    );
    assert.ok(missi.categories.some((x) => x.name === "Not Vegan"));
  });

  test("property: clearance DER round trip", () => {
    const p = r.require("1.2.826.0.1.6726289.0.0");
    const nonInformative = p.categories.filter((c) => c.tagType !== "informative");
    fc.assert(
      fc.property(fc.subarray([...p.classifications]), fc.subarray(nonInformative), (cls, cats) => {
        const c = makeClearance(p, cls, cats);
        const back = decodeBerClearance(encodeBerClearance(c), r);
        assert.deepEqual(back.classifications, c.classifications);
        assert.deepEqual(back.categories, c.categories);
      }),
      { numRuns: 300 },
    );
  });
});
