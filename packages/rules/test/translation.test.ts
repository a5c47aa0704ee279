import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { acdf, labelMarking, parseClearance, PolicyRegistry } from "@cordon/policy";
import { Translations } from "../src/translation.js";
import { StanzaLabels } from "../src/stanza-label.js";
import { label, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../test/conformance");

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

// Fixed: a label read before a policy reload, translated after it into a current policy, was
// cached under its category indices; the reloaded policy numbers its categories anew, so a new
// label with the same indices but another category got the old one's translation.
test("a label of a replaced policy is translated but not cached for the new policy's labels", () => {
  const r = registry();
  const labels = new StanzaLabels(r);
  const partners = labels.read(securityLabel(label(TLPX, 12, [0])), [TLPX]);
  assert.ok(partners.ok && partners.label);
  // The same TLPX, its first two categories swapped: index 0 is now CSIRTS.
  const text = readFileSync(resolve(CORPUS, "tlp-extended-policy.xml"), "utf8");
  const partnersXml = /<tagCategory name="PARTNERS"[\s\S]*?<\/tagCategory>/u.exec(text)![0];
  const csirtsXml = /<tagCategory name="CSIRTS"[\s\S]*?<\/tagCategory>/u.exec(text)![0];
  const swapped = text
    .replace(partnersXml, "\u0000")
    .replace(csirtsXml, partnersXml)
    .replace("\u0000", csirtsXml);
  const next = new PolicyRegistry();
  next.loadString(swapped);
  next.loadString(readFileSync(resolve(CORPUS, "tlp-policy.xml"), "utf8"));
  r.replaceAll(next.policies());
  const translations = new Translations(r);
  const stale = translations.translate(partners.label, r.require(TLP));
  assert.ok(stale && labelMarking(stale).includes("PARTNERS"), stale && labelMarking(stale));
  const csirts = labels.read(securityLabel(label(TLPX, 12, [1])), [TLPX]);
  assert.ok(csirts.ok && csirts.label);
  assert.equal(labelMarking(csirts.label).includes("CSIRTS"), true, labelMarking(csirts.label));
  const fresh = translations.translate(csirts.label, r.require(TLP));
  assert.ok(fresh);
  assert.ok(labelMarking(fresh).includes("CSIRTS"), labelMarking(fresh));
});

// Issue 15 item 10: a clearance of an equivalent policy was compared with the label as it came
// (CORDON_ACDF_POLICY_MISMATCH), so users governed by an equivalent policy were refused.
test("decide: a clearance of an equivalent policy judges the label translated into its policy", () => {
  const r = registry();
  const labels = new StanzaLabels(r);
  const translations = new Translations(r);
  const read = (policy: string, lacv: number, cats: number[] = []) => {
    const reading = labels.read(securityLabel(label(policy, lacv, cats)), [policy]);
    assert.ok(reading.ok && reading.label);
    return reading.label;
  };
  const tlpGreen = read(TLP, 11);
  const tlpRed = read(TLP, 13);
  const tlpxGreenOnly = parseClearance(
    `<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='${TLPX}'/><classification lacv='10'/><classification lacv='11'/></clearance>`,
    r,
  );
  assert.equal(acdf(tlpGreen, tlpxGreenOnly).reason, "CORDON_ACDF_POLICY_MISMATCH", "the old comparison");
  assert.deepEqual(translations.decide(tlpGreen, tlpxGreenOnly), {
    granted: true,
    reason: "CORDON_ACDF_GRANTED",
  });
  assert.equal(translations.decide(tlpRed, tlpxGreenOnly).reason, "CORDON_ACDF_CLASSIFICATION");
  assert.equal(labels.grants(tlpGreen, tlpxGreenOnly), true);
  assert.equal(labels.grants(tlpRed, tlpxGreenOnly), false);
  // No equivalent in the clearance's policy (TLPX BLACK in TLP), a nil clearance or label: denied.
  const tlpAll = parseClearance(
    `<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='${TLP}'/>${[10, 11, 12, 13].map((l) => `<classification lacv='${l}'/>`).join("")}</clearance>`,
    r,
  );
  assert.equal(translations.decide(read(TLPX, 14), tlpAll).reason, "CORDON_ACDF_POLICY_MISMATCH");
  assert.equal(translations.decide(tlpGreen, undefined).granted, false);
  assert.equal(translations.decide(undefined, tlpAll).granted, false);
});
