// Regression (adversarial review adv55): the reading cache kept the labels of ESS forms with, as
// their `encoded` bytes, a view of Node's shared 8 KiB Buffer pool — a whole slab kept alive per
// cached label, counted at the label's length, and other stanzas' bytes behind `.buffer`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeEssLabel, parseLabelData } from "@cordon/policy";
import { StanzaLabels } from "../src/stanza-label.js";
import { label, registry, securityLabel, TLPX } from "./fixtures.js";

describe("the reading cache keeps labels with bytes of their own", () => {
  test("an ESS form read from a stanza is not a view of the Buffer pool", () => {
    const r = registry();
    const der = Buffer.from(encodeEssLabel(parseLabelData(label(TLPX, 12, [0]), r), { reencode: true }));
    const ess = `<esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${der.toString("base64")}</esssecuritylabel>`;
    const labels = new StanzaLabels(r);
    const read = labels.read(securityLabel(ess), [TLPX]);
    Buffer.from("another user's message body", "utf8");
    assert.ok(read.ok && read.label);
    const enc = read.label.encoded!;
    assert.deepEqual(Buffer.from(enc), der);
    assert.equal(enc.buffer.byteLength, enc.byteLength);
    assert.ok(labels.cacheBytes < 4096, `cache counts ${labels.cacheBytes} bytes`);
  });
});
