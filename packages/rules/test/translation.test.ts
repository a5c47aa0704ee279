import { test } from "node:test";
import assert from "node:assert/strict";
import { labelMarking } from "@cordon/policy";
import { Translations } from "../src/translation.js";
import { StanzaLabels } from "../src/stanza-label.js";
import { label, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

test("a label in an equivalent policy, computed once; none where there is no equivalent", () => {
  const r = registry();
  const labels = new StanzaLabels(r);
  const amber = labels.read(securityLabel(label(TLPX, 12, [0])), [TLPX]);
  // TLPX BLACK has no equivalent in TLP.
  const black = labels.read(securityLabel(label(TLPX, 14)), [TLPX]);
  assert.ok(amber.ok && amber.label && black.ok && black.label);
  const translations = new Translations(r);
  const once = translations.translate(amber.label, r.require(TLP));
  assert.ok(once);
  assert.equal(labelMarking(once), "TLP:AMBER [TO:PARTNERS] (handle with care) (relayed)");
  assert.equal(translations.translate(amber.label, r.require(TLP)), once, "cached");
  assert.equal(translations.translate(amber.label, r.require(TLPX)), amber.label);
  assert.equal(translations.translate(black.label, r.require(TLP)), undefined);
  assert.ok(translations.bytes > 0);
});

test("the cache is bounded in bytes", () => {
  const r = registry();
  const labels = new StanzaLabels(r);
  const translations = new Translations(r, 600);
  for (const lacv of [10, 11, 13]) {
    const read = labels.read(securityLabel(label(TLPX, lacv)), [TLPX]);
    assert.ok(read.ok && read.label);
    translations.translate(read.label, r.require(TLP));
    assert.ok(translations.bytes <= 600, `${translations.bytes}`);
  }
});
