// Regression (adversarial review adv55): the reading cache kept the labels of ESS forms with, as
// their `encoded` bytes, a view of Node's shared 8 KiB Buffer pool — a whole slab kept alive per
// cached label, counted at the label's length, and other stanzas' bytes behind `.buffer`.
import { describe, test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { createParser, type Element } from "@cordon/component";
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

// Review adv13: the reading cache's key is the label's XML as serialise writes it, a string made
// of the parsed label's own texts and attribute values — and those are slices of the text the
// parser read (V8 keeps a substring of 13 characters or more as a view of its parent). Kept as a
// cache key, each kept its whole socket read alive: 300 distinct labels, each in a stanza with a
// 200 KB body, held 60 MB behind 139 KB of keys (the bound counted the keys alone). A key kept is a
// copy of its own.
describe("the reading cache's keys are copies of their own (adv13)", () => {
  test("labels read from large stanzas do not keep the stanzas' text alive", () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const labels = new StanzaLabels(registry());
    const read = (i: number): void => {
      const parser = createParser();
      let found: Element | undefined;
      parser.on("element", (el) => {
        found = el.getChild("securitylabel", "urn:xmpp:sec-label:0");
      });
      parser.on("start", () => undefined);
      parser.write(
        `<stream><message><securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>marking number ${i}</displaymarking>` +
          `<label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>not base64 ${i}</esssecuritylabel></label>` +
          `</securitylabel><body>${"x".repeat(200_000)}</body></message>`,
      );
      labels.read(found!, [TLPX]);
    };
    read(-1);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 300; i++) read(i);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(labels.cacheSize, 301);
    assert.ok(
      grown < 10_000_000,
      `${(grown / 1e6).toFixed(1)} MB kept for ${labels.cacheBytes} bytes counted`,
    );
  });
});
