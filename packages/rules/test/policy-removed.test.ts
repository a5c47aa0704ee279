// A label or clearance a policy reload could not re-bind (adversarial review adv15). A component
// keeps what no longer reads under the new policies bound to the old Policy object (the guard's
// policy-rebind.ts, the catalog's GuardDefaultLabel): said to grant nothing. It did: a label of a
// policy the reload removed was translated into an equivalent policy still loaded — through the
// removed policy's own equivalence table — and granted; and as a default label it was still
// applied (valid under the removed policy). The guard then delivered every unlabelled message
// under the removed policy's default label.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPolicy, makeClearance, makeLabel } from "@cordon/policy";
import { parseElement } from "@cordon/component";
import { oneToOne } from "../src/one-to-one.js";
import { StanzaLabels } from "../src/stanza-label.js";
import { registry, TLP, TLPX } from "./fixtures.js";

const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../test/conformance");
const tlpText = readFileSync(resolve(CORPUS, "tlp-policy.xml"), "utf8");
const unlabelled = () => parseElement("<message to='b@tlp.test' type='chat'><body>x</body></message>");

test("a default label whose policy a reload removed is not applied (default-label-invalid), and grants nothing", () => {
  const r = registry();
  const tlpx = r.require(TLPX);
  const kept = makeLabel(tlpx, tlpx.classificationByLacv.get(11)!, []); // TLPX GREEN
  const labels = new StanzaLabels(r);
  const before = labels.of(unlabelled(), { accept: [TLPX, TLP], defaultLabel: kept, maxDepth: 10 });
  assert.ok(before.ok, "applied while its policy is loaded");

  // The reload: TLPX removed, TLP (its equivalent) reloaded. The default no longer re-reads.
  r.replaceAll([loadPolicy(tlpText)]);
  const tlp = r.require(TLP);
  const everything = makeClearance(tlp, tlp.classifications, tlp.categories);
  const known = { status: "known", clearance: everything, fingerprint: "all" } as const;
  // Was: granted (TLPX GREEN translated into the new TLP by the removed TLPX's table).
  assert.equal(labels.translations.decide(kept, everything).granted, false);
  assert.equal(labels.translations.decide(kept, everything).reason, "CORDON_ACDF_POLICY_MISMATCH");
  assert.equal(
    oneToOne(labels.translations, kept, { sender: known, server: { status: "none" }, recipient: known }).ok,
    false,
  );
  // Was: { ok: true, source: "default" } — every unlabelled message delivered under it.
  const after = labels.of(unlabelled(), { accept: [TLP], defaultLabel: kept, maxDepth: 10 });
  assert.deepEqual(after, { ok: false, problem: "default-label-invalid" });
});

test("a clearance bound to a replaced Policy object grants nothing, even a label of the policy loaded now", () => {
  const r = registry();
  const old = r.require(TLP);
  const oldClearance = makeClearance(old, old.classifications, old.categories);
  r.replaceAll([
    loadPolicy(readFileSync(resolve(CORPUS, "tlp-extended-policy.xml"), "utf8")),
    loadPolicy(tlpText),
  ]);
  const tlpx = r.require(TLPX);
  const green = makeLabel(tlpx, tlpx.classificationByLacv.get(11)!, []);
  const labels = new StanzaLabels(r);
  // Was: granted (the new TLPX's label translated into the old TLP object: same OID).
  assert.equal(labels.translations.decide(green, oldClearance).granted, false);
  // The same clearance re-read under the new objects grants it.
  const tlp = r.require(TLP);
  assert.equal(
    labels.translations.decide(green, makeClearance(tlp, tlp.classifications, tlp.categories)).granted,
    true,
  );
});
