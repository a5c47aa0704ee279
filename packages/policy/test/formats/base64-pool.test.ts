// Regression (adversarial review adv55): a label decoded from base64 text keeps a view of Node's
// shared 8 KiB Buffer pool as its `encoded` bytes. Stored as such (the label cache), it held the
// whole slab — the cache's byte budget counted `encoded.byteLength` — and its `.buffer` carried
// whatever other stanzas had put into the same slab. Caches keep retainedLabel's copy (retain.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseLabelData } from "../../src/formats/detect.js";
import { LabelCache, labelBytes } from "../../src/cache.js";
import { retainedLabel } from "../../src/retain.js";
import { sameLabel } from "../../src/label.js";
import { corpusFile, registryOf } from "../corpus.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const registry = registryOf("harbour-policy.xml");
const text = corpusFile("harbour-label-crew-cargo.ber").toString("base64");

describe("labels kept by a cache own their bytes", () => {
  test("a cached label is not a view of the shared pool; other pool users are not visible", () => {
    const cache = new LabelCache(registry);
    const label = cache.get(text);
    const other = Buffer.from("another user's message body", "utf8");
    const enc = label.encoded!;
    assert.equal(enc.buffer.byteLength, enc.byteLength);
    assert.equal(Buffer.from(enc.buffer).includes("another user's"), false);
    other.fill(0);
    assert.equal(Buffer.from(enc).toString("base64"), text);
    assert.equal(cache.get(text), label);
  });

  test("retainedLabel copies a shared view only, and keeps the label's meaning", () => {
    const parsed = parseLabelData(text.replace(/(.{16})/g, "$1\n "), registry);
    const kept = retainedLabel(parsed);
    assert.equal(kept.encoded!.buffer.byteLength, kept.encoded!.byteLength);
    assert.ok(sameLabel(kept, parsed));
    assert.equal(kept.acdf, parsed.acdf);
    assert.equal(retainedLabel(kept), kept);
  });

  test("labelBytes counts the buffer a label keeps alive", () => {
    const parsed = parseLabelData(text, registry);
    assert.ok(labelBytes(parsed) >= parsed.encoded!.buffer.byteLength);
  });

  test("cached labels hold what the cache counts, not a pool slab each", () => {
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const cache = new LabelCache(registry, 64 * 1024 * 1024);
    const bytes = Buffer.from(text, "base64");
    for (let i = 0; i < 2000; i++) {
      // 2,000 distinct texts of one label (a trailing-zero-bits variant would be refused: vary
      // the key by white space instead, which the general path strips).
      cache.get(text.slice(0, 8) + " ".repeat(i) + text.slice(8));
      for (let k = 0; k < 4; k++) Buffer.from("x".repeat(2000)); // other stanzas through the pool
    }
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    assert.equal(cache.size, 2000);
    // Counted: 124 bytes each (248 kB); a slab each would be ~16 MB.
    assert.ok(held < 4_000_000, `held ${held} bytes for ${cache.size} labels of ${bytes.length} bytes`);
  });
});
