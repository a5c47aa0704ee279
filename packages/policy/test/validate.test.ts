import { test } from "node:test";
import assert from "node:assert/strict";
import { assertValidLabel, isValidLabel, labelProblems } from "../src/validate.js";
import { InvalidLabelError } from "../src/errors.js";
import { parseLabelData } from "../src/formats/detect.js";
import { corpusFile, registryOf } from "./corpus.js";

const r = registryOf("harbour-policy.xml");
const label = (f: string) => parseLabelData(corpusFile(f), r);

test("valid and invalid corpus labels", () => {
  assert.equal(isValidLabel(label("harbour-label-crew-cargo.xml")), true);
  const toxic = label("harbour-label-public-toxic.xml");
  assert.equal(isValidLabel(toxic), false);
  assert.deepEqual(labelProblems(toxic), ["category TOXIC excludes classification PUBLIC"]);
  assert.throws(() => assertValidLabel(toxic), InvalidLabelError);
  assert.equal(isValidLabel(label("harbour-label-quarantine-explosive.xml")), false);
  assert.equal(isValidLabel(label("harbour-label-quarantine-dock.xml")), false);
  assert.equal(isValidLabel(label("harbour-label-captain-no-berth.xml")), false);
  assert.equal(isValidLabel(label("harbour-label-customs-both.xml")), false);
  assert.equal(isValidLabel(label("harbour-label-customs.xml")), true);
});
