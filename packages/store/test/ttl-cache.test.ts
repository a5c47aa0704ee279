import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TtlCache } from "../src/ttl-cache.js";

describe("TtlCache", () => {
  test("expires by TTL on an injected clock, evicts least recently used, ignores stale generations", () => {
    let now = 0;
    const c = new TtlCache<string, number>(100, 2, () => now);
    c.set("a", 1);
    now = 99;
    assert.deepEqual(c.get("a"), { value: 1, ageMs: 99 });
    now = 100;
    assert.equal(c.get("a"), undefined);
    assert.equal(c.peek("a"), 1);
    c.set("a", 1);
    c.set("b", 2);
    c.get("a");
    c.set("c", 3);
    assert.deepEqual(c.keys(), ["a", "c"]);
    const gen = c.generation;
    c.delete("a");
    c.set("a", 9, gen);
    assert.equal(c.get("a"), undefined);
    c.clear();
    assert.equal(c.size, 0);
    assert.equal(new TtlCache(0, 10).enabled, false);
  });
});
