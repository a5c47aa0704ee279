// Regression (adversarial review adv55): a label without restrictive categories (or without
// permissive ones) shares one empty ACDF list with every other such label. As plain lists (ess11)
// they could grow: a push through one label's list changed the decisions on every other label.
// The shared empties are frozen, as the Int32Array(0) they replaced could not grow.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseLabelData } from "../src/formats/detect.js";
import { makeLabel } from "../src/label.js";
import { corpusFile, HARBOUR, registryOf } from "./corpus.js";

const registry = registryOf("harbour-policy.xml");

describe("ACDF lists are not shared mutably between labels", () => {
  test("the shared empty lists cannot grow", () => {
    const a = parseLabelData(corpusFile("harbour-label-oid-first.ber"), registry); // no restrictive
    const policy = registry.require(HARBOUR);
    const b = makeLabel(policy, policy.classifications[0]!, []); // neither kind
    assert.equal(a.acdf.restrictive.length, 0);
    assert.equal(b.acdf.permissive.length, 0);
    for (const [x, y] of [
      [a.acdf.restrictive, b.acdf.restrictive],
      [b.acdf.permissive, makeLabel(b.policy, b.classification, []).acdf.permissive],
    ] as const) {
      if (x.length !== 0) {
        assert.notEqual(x, y); // non-empty lists are each label's own
        continue;
      }
      assert.throws(() => (x as unknown[]).push(0, -1), TypeError);
      assert.equal(y.length, 0);
    }
  });
});
