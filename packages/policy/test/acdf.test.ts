import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { acdf, clearanceGrants } from "../src/acdf.js";
import { dominates, makeClearance } from "../src/clearance.js";
import { makeLabel } from "../src/label.js";
import { parseClearance, parseLabelData } from "../src/formats/detect.js";
import { corpusFile, HARBOUR, registryOf } from "./corpus.js";

const registry = registryOf("harbour-policy.xml");
const harbour = registry.require(HARBOUR);
const label = (f: string) => parseLabelData(corpusFile(f), registry);
const clearance = (f: string) => parseClearance(corpusFile(f), registry);

describe("acdf", () => {
  test("corpus decisions and reasons", () => {
    assert.deepEqual(
      acdf(label("harbour-label-crew-cargo.xml"), clearance("harbour-clearance-deckhand.xml")),
      { granted: false, reason: "CORDON_ACDF_RESTRICTIVE_CATEGORY" },
    );
    assert.equal(
      acdf(label("harbour-label-crew-cargo.xml"), clearance("harbour-clearance-officer.xml")).granted,
      true,
    );
    assert.equal(
      acdf(label("harbour-label-crew-cargo.ber"), clearance("harbour-clearance-officer-sslprivileges.ber"))
        .granted,
      true,
    );
    assert.equal(
      clearanceGrants(clearance("harbour-clearance-officer.ber"), label("harbour-label-crew-cargo.ber")),
      true,
    );
  });

  test("nil label or clearance is denied", () => {
    assert.equal(acdf(null, clearance("harbour-clearance-officer.xml")).reason, "CORDON_ACDF_NO_LABEL");
    assert.equal(acdf(label("harbour-label-customs.xml"), undefined).reason, "CORDON_ACDF_NO_CLEARANCE");
  });

  test("classification is set membership, not hierarchy", () => {
    const captain = harbour.classificationByLacv.get(4)!;
    const officers = harbour.classificationByLacv.get(3)!;
    const l = makeLabel(harbour, officers, []);
    assert.equal(acdf(l, makeClearance(harbour, [captain], [])).reason, "CORDON_ACDF_CLASSIFICATION");
    assert.equal(acdf(l, makeClearance(harbour, [officers], [])).granted, true);
  });

  test("permissive groups need one held category each; informative ignored", () => {
    const cls = harbour.classificationByLacv.get(2)!;
    const byName = (n: string) => harbour.categories.find((c) => c.name === n)!;
    // Berth {NORTH, SOUTH} and Dock {DRY} are two groups (one tag set); FRAGILE is informative.
    const l = makeLabel(harbour, cls, [byName("NORTH"), byName("SOUTH"), byName("DRY"), byName("FRAGILE")]);
    assert.equal(
      acdf(l, makeClearance(harbour, [cls], [byName("SOUTH")])).reason,
      "CORDON_ACDF_PERMISSIVE_CATEGORY",
    );
    assert.equal(acdf(l, makeClearance(harbour, [cls], [byName("SOUTH"), byName("DRY")])).granted, true);
  });

  test("a clearance from another policy object is denied", () => {
    const other = registryOf("harbour-policy.xml");
    const c = parseClearance(corpusFile("harbour-clearance-officer.xml"), other);
    assert.equal(acdf(label("harbour-label-crew-cargo.xml"), c).reason, "CORDON_ACDF_POLICY_MISMATCH");
  });
});

const arbSubset = <T>(xs: readonly T[]) => fc.subarray([...xs]);
const arbClearance = fc
  .tuple(arbSubset(harbour.classifications), arbSubset(harbour.categories))
  .map(([cl, ca]) => makeClearance(harbour, cl, ca));
const arbLabel = fc
  .tuple(fc.constantFrom(...harbour.classifications), arbSubset(harbour.categories))
  .map(([cl, ca]) => makeLabel(harbour, cl, ca));

describe("acdf properties", () => {
  test("monotonic: a dominating clearance grants at least what the dominated one grants", () => {
    fc.assert(
      fc.property(
        arbLabel,
        arbClearance,
        arbSubset(harbour.classifications),
        arbSubset(harbour.categories),
        (l, c, moreCl, moreCa) => {
          const big = makeClearance(harbour, [...c.classifications, ...moreCl], [...c.categories, ...moreCa]);
          assert.ok(dominates(big, c));
          if (acdf(l, c).granted) assert.ok(acdf(l, big).granted);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("raising the classification never turns deny into grant (clearances holding all classes up to a level)", () => {
    const sorted = [...harbour.classifications].sort((a, b) => a.hierarchy - b.hierarchy);
    fc.assert(
      fc.property(
        fc.nat(sorted.length - 1),
        fc.nat(sorted.length - 1),
        fc.nat(sorted.length - 1),
        arbSubset(harbour.categories),
        arbSubset(harbour.categories),
        (lo, hi, level, lcats, ccats) => {
          const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
          const c = makeClearance(harbour, sorted.slice(0, level + 1), ccats);
          const low = makeLabel(harbour, sorted[a]!, lcats);
          const high = makeLabel(harbour, sorted[b]!, lcats);
          if (!acdf(low, c).granted) assert.ok(!acdf(high, c).granted);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
