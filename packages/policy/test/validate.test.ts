import { test } from "node:test";
import assert from "node:assert/strict";
import { assertValidLabel, isValidLabel, labelProblems } from "../src/validate.js";
import { InvalidLabelError } from "../src/errors.js";
import { parseLabelData } from "../src/formats/detect.js";
import { corpusFile, registryOf } from "./corpus.js";

const r = registryOf("food-policy.xml");

test("valid and invalid corpus labels", () => {
  assert.equal(isValidLabel(parseLabelData(corpusFile("food-label-milk-chocolate.xml"), r)), true);
  const cheap = parseLabelData(corpusFile("food-label-cheap-milk-chocolate.xml"), r);
  assert.equal(isValidLabel(cheap), false);
  assert.ok(labelProblems(cheap).length > 0);
  assert.throws(() => assertValidLabel(cheap), InvalidLabelError);
  assert.equal(isValidLabel(parseLabelData(corpusFile("food-label-meaty-milk-chocolate.xml"), r)), false);
});
