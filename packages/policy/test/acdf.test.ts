import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { acdf, clearanceGrants } from "../src/acdf.js";
import { dominates, makeClearance } from "../src/clearance.js";
import { makeLabel } from "../src/label.js";
import { parseClearance, parseLabelData } from "../src/formats/detect.js";
import { corpusFile, registryOf } from "./corpus.js";

const registry = registryOf("food-policy.xml");
const food = registry.require("1.2.826.0.1.6726289.0.0");
const label = (f: string) => parseLabelData(corpusFile(f), registry);
const clearance = (f: string) => parseClearance(corpusFile(f), registry);

describe("acdf", () => {
  test("corpus decisions and reasons", () => {
    assert.deepEqual(
      acdf(label("food-label-milk-chocolate.xml"), clearance("food-clearance-lactose-intolerant.xml")),
      { granted: false, reason: "CORDON_ACDF_RESTRICTIVE_CATEGORY" },
    );
    assert.equal(
      acdf(label("food-label-milk-chocolate.xml"), clearance("food-clearance-all-okay.xml")).granted,
      true,
    );
    assert.equal(acdf(label("food-label-bacon.ber"), clearance("food-clearance-savoury.xml")).granted, true);
    assert.equal(
      clearanceGrants(clearance("food-clearance-all-okay.ber"), label("food-label-milk-chocolate.ber")),
      true,
    );
  });

  test("nil label or clearance is denied", () => {
    assert.equal(acdf(null, clearance("food-clearance-all-okay.xml")).reason, "CORDON_ACDF_NO_LABEL");
    assert.equal(acdf(label("food-label-water.xml"), undefined).reason, "CORDON_ACDF_NO_CLEARANCE");
  });

  test("classification is set membership, not hierarchy", () => {
    const luxury = food.classificationByLacv.get(52)!;
    const commodity = food.classificationByLacv.get(51)!;
    const l = makeLabel(food, commodity, []);
    assert.equal(acdf(l, makeClearance(food, [luxury], [])).reason, "CORDON_ACDF_CLASSIFICATION");
    assert.equal(acdf(l, makeClearance(food, [commodity], [])).granted, true);
  });

  test("permissive groups need one held category each; informative ignored", () => {
    const cls = food.classificationByLacv.get(51)!;
    const byName = (n: string) => food.categories.find((c) => c.name === n)!;
    const l = makeLabel(food, cls, [byName("Sweet"), byName("Salty"), byName("Crunchy"), byName("Red")]);
    assert.equal(
      acdf(l, makeClearance(food, [cls], [byName("Salty")])).reason,
      "CORDON_ACDF_PERMISSIVE_CATEGORY",
    );
    assert.equal(acdf(l, makeClearance(food, [cls], [byName("Salty"), byName("Crunchy")])).granted, true);
  });

  test("a clearance from another policy object is denied", () => {
    const other = registryOf("food-policy.xml");
    const c = parseClearance(corpusFile("food-clearance-all-okay.xml"), other);
    assert.equal(acdf(label("food-label-milk-chocolate.xml"), c).reason, "CORDON_ACDF_POLICY_MISMATCH");
  });
});

const arbSubset = <T>(xs: readonly T[]) => fc.subarray([...xs]);
const arbClearance = fc
  .tuple(arbSubset(food.classifications), arbSubset(food.categories))
  .map(([cl, ca]) => makeClearance(food, cl, ca));
const arbLabel = fc
  .tuple(fc.constantFrom(...food.classifications), arbSubset(food.categories))
  .map(([cl, ca]) => makeLabel(food, cl, ca));

describe("acdf properties", () => {
  test("monotonic: a dominating clearance grants at least what the dominated one grants", () => {
    fc.assert(
      fc.property(
        arbLabel,
        arbClearance,
        arbSubset(food.classifications),
        arbSubset(food.categories),
        (l, c, moreCl, moreCa) => {
          const big = makeClearance(food, [...c.classifications, ...moreCl], [...c.categories, ...moreCa]);
          assert.ok(dominates(big, c));
          if (acdf(l, c).granted) assert.ok(acdf(l, big).granted);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("raising the classification never turns deny into grant (clearances holding all classes up to a level)", () => {
    const sorted = [...food.classifications].sort((a, b) => a.hierarchy - b.hierarchy);
    fc.assert(
      fc.property(
        fc.nat(sorted.length - 1),
        fc.nat(sorted.length - 1),
        fc.nat(sorted.length - 1),
        arbSubset(food.categories),
        arbSubset(food.categories),
        (lo, hi, level, lcats, ccats) => {
          const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
          const c = makeClearance(food, sorted.slice(0, level + 1), ccats);
          const low = makeLabel(food, sorted[a]!, lcats);
          const high = makeLabel(food, sorted[b]!, lcats);
          if (!acdf(low, c).granted) assert.ok(!acdf(high, c).granted);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
