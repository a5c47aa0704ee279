import { test } from "node:test";
import assert from "node:assert/strict";
import { translateLabel } from "../src/translate.js";
import { labelMarking } from "../src/marking.js";
import { parseLabelData } from "../src/formats/detect.js";
import { NoEquivalentCategoryError, NoEquivalentClassificationError } from "../src/errors.js";
import { makeLabel } from "../src/label.js";
import { corpusFile, registryOf, TLP, TLP_EXTENDED } from "./corpus.js";

const r = registryOf("tlp-extended-policy.xml", "tlp-policy.xml");

test("AMBER for partners translates to TLP with the required categories, the source untouched", () => {
  const source = parseLabelData(corpusFile("tlpx-label-amber-partners.xml"), r);
  const l = translateLabel(source, r.require(TLP));
  assert.equal(l.policy.name, "TLP");
  assert.deepEqual(
    l.categories.map((c) => c.name),
    ["PARTNERS", "CAUTION", "RELAYED"],
  );
  assert.equal(labelMarking(l), "TLP:AMBER [TO:PARTNERS] (handle with care) (relayed)");
  assert.equal(source.policy.id, TLP_EXTENDED);
  assert.equal(labelMarking(source), "TLPX:AMBER SHARE:PARTNERS");
});

test("one category may map to several; discarded ones vanish", () => {
  const l = translateLabel(
    parseLabelData(corpusFile("tlpx-label-amber-vendors-hold.xml"), r),
    r.require(TLP),
  );
  assert.deepEqual(
    l.categories.map((c) => c.name),
    ["PARTNERS", "CSIRTS", "CAUTION", "RELAYED"],
  );
});

test("a classification or category with no equivalence is a typed error", () => {
  const tlpx = r.require(TLP_EXTENDED);
  const anonymise = tlpx.categories.find((c) => c.name === "ANONYMISE")!;
  const l = makeLabel(tlpx, tlpx.classificationByLacv.get(13)!, [anonymise]);
  assert.throws(
    () => translateLabel(l, r.require(TLP)),
    (e: unknown) => e instanceof NoEquivalentCategoryError && e.message === "No equivalence to ANONYMISE",
  );
  // BLACK's only equivalent is for the decrypt direction.
  assert.throws(
    () => translateLabel(makeLabel(tlpx, tlpx.classificationByLacv.get(14)!, []), r.require(TLP)),
    NoEquivalentClassificationError,
  );
});
