import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENTRY_OVERHEAD_BYTES } from "@cordon/policy";
import { checkCacheBytes, DEFAULT_CACHE_MAX_BYTES, TtlCache } from "../src/ttl-cache.js";

/** What one entry of a one-character key and a value of `bytes` costs (ByteLru + the slot). */
const entry = (bytes: number) => 2 + 32 + bytes + ENTRY_OVERHEAD_BYTES;

describe("TtlCache", () => {
  test("expires by TTL on an injected clock, evicts least recently used, ignores stale generations", () => {
    let now = 0;
    const c = new TtlCache<number>(
      100,
      3 * entry(0),
      () => 0,
      () => now,
    );
    c.set("a", 1);
    now = 99;
    assert.deepEqual(c.get("a"), { value: 1, ageMs: 99 });
    now = 100;
    assert.equal(c.get("a"), undefined);
    assert.equal(c.peek("a"), 1);
    assert.equal(c.ageOf("a"), 100);
    c.set("a", 1);
    c.set("b", 2);
    c.set("c", 3);
    c.get("a"); // (behind the recent half: moved to the recent end)
    c.set("d", 4);
    assert.deepEqual(c.keys(), ["c", "a", "d"]);
    const gen = c.generation;
    c.delete("a");
    c.set("a", 9, gen);
    assert.equal(c.get("a"), undefined);
    c.clear();
    assert.equal(c.size, 0);
    assert.equal(c.bytes, 0);
    assert.equal(new TtlCache(0, 10, () => 0).enabled, false);
    assert.equal(new TtlCache(10, 0, () => 0).enabled, false);
  });

  test("bounded in bytes: large values take the room they weigh, one larger than the budget is not kept", () => {
    const size = (v: string) => 2 * v.length;
    const c = new TtlCache<string>(60_000, 1024 * 1024, size);
    for (let i = 0; i < 100; i++) c.set(`u${i}@example.test`, String(i).padEnd(100_000, "x"));
    // Counted as a count of entries (10,000), the 100 values (200 KB each, UTF-16) held 20 MB.
    assert.ok(c.bytes <= 1024 * 1024, `${c.bytes} bytes held`);
    assert.equal(c.size, 5);
    assert.deepEqual(
      c.keys(),
      [95, 96, 97, 98, 99].map((i) => `u${i}@example.test`),
    );
    assert.equal(c.get("u99@example.test")?.value.slice(0, 2), "99");
    c.set("big@example.test", "x".repeat(600_000));
    assert.equal(c.peek("big@example.test"), undefined, "larger than the budget: not kept");
    assert.equal(c.size, 5, "and nothing was evicted for it");
  });

  test("the budget: a non-negative integer, default 16 MiB", () => {
    assert.equal(checkCacheBytes(undefined), DEFAULT_CACHE_MAX_BYTES);
    assert.equal(DEFAULT_CACHE_MAX_BYTES, 16 * 1024 * 1024);
    assert.equal(checkCacheBytes(0), 0);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60])
      assert.throws(() => checkCacheBytes(bad), /cacheMaxBytes must be an integer/u);
  });
});
