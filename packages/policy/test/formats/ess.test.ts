import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeEssLabel, encodeEssLabel } from "../../src/formats/ess.js";
import { decodeBerClearance, encodeBerClearance } from "../../src/formats/clearance-ber.js";
import { makeLabel, sameLabel } from "../../src/label.js";
import { makeClearance } from "../../src/clearance.js";
import { MalformedEncodingError, MissingPolicyError, UnsupportedFormatError } from "../../src/errors.js";
import { corpusFile, HARBOUR, registryOf } from "../corpus.js";

const r = registryOf("harbour-policy.xml", "tlp-extended-policy.xml", "tlp-policy.xml");
const policies = r.policies();

describe("ESS labels", () => {
  test("corpus DER labels decode, keep their bytes, and re-encode to an equal label", () => {
    const bytes = corpusFile("harbour-label-crew-cargo.ber");
    const l = decodeEssLabel(bytes, r);
    assert.equal(l.classification.name, "CREW");
    assert.deepEqual(
      l.categories.map((c) => c.name),
      ["TOXIC", "FLAMMABLE", "SOUTH", "FRAGILE", "PERISHABLE"],
    );
    assert.equal(encodeEssLabel(l), bytes);
    assert.ok(sameLabel(decodeEssLabel(encodeEssLabel(l, { reencode: true }), r), l));
  });

  test("privacy mark is kept for display; missing policy is typed", () => {
    assert.throws(() => decodeEssLabel(corpusFile("no-policy-label.ber"), r), MissingPolicyError);
  });

  test("MISSI categories and SET members in any order decode", () => {
    const missi = decodeEssLabel(corpusFile("harbour-label-all-kinds-missi.ber"), r);
    assert.deepEqual(
      missi.categories.map((c) => `${c.name}:${c.tagType}`),
      [
        "TOXIC:restrictive",
        "SEALED:enumeratedRestrictive",
        "NORTH:permissive",
        "DRY:enumeratedPermissive",
        "CUSTOMS:enumeratedRestrictive",
        "FRAGILE:informative",
      ],
    );
    assert.equal(decodeEssLabel(corpusFile("harbour-label-oid-first.ber"), r).classification.name, "CREW");
  });

  test("trailing bytes and unknown category syntaxes are rejected", () => {
    const bytes = corpusFile("harbour-label-all-kinds.ber");
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
    const c = decodeBerClearance(corpusFile("harbour-clearance-officer.ber"), r);
    assert.deepEqual(
      c.classifications.map((x) => x.name),
      ["CREW", "OFFICERS"],
    );
    const ssl = decodeBerClearance(corpusFile("harbour-clearance-officer-sslprivileges.ber"), r);
    assert.deepEqual(
      ssl.categories.map((x) => x.name),
      c.categories.map((x) => x.name),
    );
    assert.ok(ssl.categories.some((x) => x.name === "WET" && x.tagType === "enumeratedPermissive"));
  });

  test("property: clearance DER round trip", () => {
    const p = r.require(HARBOUR);
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
