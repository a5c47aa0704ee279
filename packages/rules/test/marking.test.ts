import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEssLabel, encodeEssLabel, makeLabel, sameLabel } from "@cordon/policy";
import { canonicalLabel, Markings } from "../src/marking.js";
import { StanzaLabels } from "../src/stanza-label.js";
import { label, registry, securityLabel, TLPX } from "./fixtures.js";

test("markings come from the policy, never the sender's <displaymarking/>; rendered once per label", () => {
  const labels = new StanzaLabels(registry());
  const read = labels.read(securityLabel(label(TLPX, 12, [0])), [TLPX]);
  assert.ok(read.ok && read.label);
  const markings = new Markings();
  assert.equal(markings.marking(read.label), "TLPX:AMBER SHARE:PARTNERS");
  const xml = markings.securityLabelXml(read.label);
  assert.ok(xml.includes(">TLPX:AMBER SHARE:PARTNERS</displaymarking>"));
  assert.ok(!xml.includes("ANYTHING"), "the sender's marking is not kept");
  assert.equal(markings.securityLabelXml(read.label), xml);
});

// Issue 15 item 5: the sender's ESS bytes were sent on as they came, so free text in their
// ESSPrivacyMark (RFC 2634 §5.3.2) reached every label-aware recipient.
test("the outgoing label is encoded afresh from the decided label: no privacy mark, no sender bytes", () => {
  const r = registry();
  const labels = new StanzaLabels(r);
  const amber = labels.read(securityLabel(label(TLPX, 12, [0])), [TLPX]);
  assert.ok(amber.ok && amber.label);
  const marked = makeLabel(amber.label.policy, amber.label.classification, amber.label.categories, {
    privacyMark: "meet at the north gate",
  });
  const ess = Buffer.from(encodeEssLabel(marked)).toString("base64");
  const received = labels.read(
    securityLabel(`<esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${ess}</esssecuritylabel>`),
    [TLPX],
  );
  assert.ok(received.ok && received.label);
  assert.equal(received.label.privacyMark, "meet at the north gate");
  const xml = new Markings().securityLabelXml(received.label);
  const sent = /<esssecuritylabel[^>]*>([^<]*)</u.exec(xml)![1]!;
  assert.notEqual(sent, ess);
  const decoded = decodeEssLabel(Buffer.from(sent, "base64"), r);
  assert.equal(decoded.privacyMark, undefined);
  assert.ok(sameLabel(decoded, amber.label));
  assert.ok(!Buffer.from(sent, "base64").toString("latin1").includes("north gate"));
  // A label without either is used as it is.
  const plain = makeLabel(marked.policy, marked.classification, marked.categories);
  assert.equal(canonicalLabel(plain), plain);
});
