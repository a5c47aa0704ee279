import { test } from "node:test";
import assert from "node:assert/strict";
import { translateLabel } from "../src/translate.js";
import { labelMarking } from "../src/marking.js";
import { parseLabelData } from "../src/formats/detect.js";
import { NoEquivalentCategoryError } from "../src/errors.js";
import { makeLabel } from "../src/label.js";
import { corpusFile, registryOf } from "./corpus.js";

const r = registryOf("tlp-plus.xml", "tlp.xml", "uk-demo.xml");

test("TLPX AMBER EU translates to TLP with required categories", () => {
  const l = translateLabel(
    parseLabelData(corpusFile("tlpx-amber-eu.xml"), r),
    r.require("1.2.826.0.1.6726289.0.2"),
  );
  assert.equal(l.policy.name, "TLP");
  assert.deepEqual(
    l.categories.map((c) => c.name),
    ["EU", "Extra", "Foreign"],
  );
  assert.equal(labelMarking(l), "TLP:AMBER [REGION=EU] [Additional Handling May Apply]/[Imported Data]");
});

test("a category with no equivalence is a typed error", () => {
  const tlpx = r.require("1.2.826.0.1.6726289.0.1");
  const storage = tlpx.categories.find((c) => c.name === "Storage")!;
  const l = makeLabel(tlpx, tlpx.classificationByLacv.get(13)!, [storage]);
  assert.throws(
    () => translateLabel(l, r.require("1.2.826.0.1.6726289.0.2")),
    (e: unknown) => e instanceof NoEquivalentCategoryError && e.message === "No equivalence to Storage",
  );
});
