// Regression (adversarial review adv55): a label decoded from base64 text kept a view of Node's
// shared 8 KiB Buffer pool as its `encoded` bytes. A stored label (label cache, room history) then
// held the whole slab — the cache's byte budget counts `encoded.byteLength` — and its `.buffer`
// carried whatever other stanzas had decoded or encoded into the same slab.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeBase64, parseLabelData } from "../../src/formats/detect.js";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { corpusFile, registryOf } from "../corpus.js";

const registry = registryOf("harbour-policy.xml");
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const text = corpusFile("harbour-label-crew-cargo.ber").toString("base64");

describe("base64 labels own their bytes", () => {
  test("label.encoded is not a view of the shared pool; later pool users are not visible", () => {
    const label = parseLabelData(text, registry);
    const other = Buffer.from("another user's message body", "utf8");
    const enc = label.encoded!;
    assert.equal(enc.buffer.byteLength, enc.byteLength);
    assert.equal(Buffer.from(enc.buffer).includes("another user's"), false);
    assert.deepEqual(Buffer.from(enc), Buffer.from(text, "base64"));
    other.fill(0); // the other stanza's buffer reused: the label's bytes stay
    assert.equal(Buffer.from(enc).toString("base64"), text);
  });

  test("general path (white space) and decodeBase64 also own their bytes", () => {
    const spaced = text.replace(/(.{16})/g, "$1\n ");
    const label = parseLabelData(spaced, registry);
    assert.equal(label.encoded!.buffer.byteLength, label.encoded!.byteLength);
    const b = decodeBase64(text);
    assert.equal(b.buffer.byteLength, b.byteLength);
  });

  test("stored labels hold what they are counted at, not a pool slab each", () => {
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const kept = [];
    for (let i = 0; i < 2000; i++) {
      kept.push(parseLabelData(text, registry));
      for (let k = 0; k < 4; k++) Buffer.from("x".repeat(2000)); // other stanzas through the pool
    }
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    // Counted: 124 bytes each (248 kB); a slab each would be ~16 MB. Allow generous slack for the
    // pool's current slab and the test runner's own buffers.
    assert.ok(held < 4_000_000, `held ${held} bytes for ${kept.length} labels`);
    assert.equal(kept.length, 2000);
  });
});
