import { test } from "node:test";
import assert from "node:assert/strict";
import { Markings } from "../src/marking.js";
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
