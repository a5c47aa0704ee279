// ByteLru against a plain reference model (session 17): ByteLru's use order became a linked list of its
// own (constant-time eviction) where it was the Map's insertion order. The model below is the rule
// written as simply as possible — an array in use order, searched and spliced — and random operations
// (seeded, so a failure replays) must give the same answers, the same order, the same bytes and the
// same evictions, in the same sequence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteLru, ENTRY_OVERHEAD_BYTES } from "../src/cache.js";

interface Item {
  key: string;
  value: number;
  bytes: number;
  at: number;
}

class Model {
  items: Item[] = [];
  bytes = 0;
  put = 0;
  readonly evicted: Array<[string, number]> = [];
  constructor(
    readonly maxBytes: number,
    readonly sizeOf: (v: number) => number,
  ) {}
  get(key: string): number | undefined {
    const i = this.items.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    const e = this.items[i]!;
    // Moved to the most recent end unless it is in the recent half by bytes.
    if (this.put - e.at - e.bytes > this.bytes / 2) {
      this.items.splice(i, 1);
      e.at = this.put;
      this.put += e.bytes;
      this.items.push(e);
    }
    return e.value;
  }
  set(key: string, value: number): void {
    this.delete(key);
    const bytes = 2 * key.length + this.sizeOf(value) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    while (this.bytes + bytes > this.maxBytes && this.items.length > 0) {
      const o = this.items.shift()!;
      this.bytes -= o.bytes;
      this.evicted.push([o.key, o.value]);
    }
    this.items.push({ key, value, bytes, at: this.put });
    this.put += bytes;
    this.bytes += bytes;
  }
  delete(key: string): void {
    const i = this.items.findIndex((e) => e.key === key);
    if (i < 0) return;
    this.bytes -= this.items[i]!.bytes;
    this.items.splice(i, 1);
  }
  clear(): void {
    this.items = [];
    this.bytes = 0;
  }
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const seed of [1, 2, 3, 17, 42, 1234]) {
  test(`ByteLru behaves as the reference model: random operations, seed ${seed}`, () => {
    const rnd = prng(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const keySpace = [8, 40, 300][seed % 3]!;
    const maxBytes = [600, 4_000, 40_000][int(3)]!;
    // Sizes from nothing to more than the whole budget (such a value is not kept).
    const sizeOf = (v: number) => v;
    const evicted: Array<[string, number]> = [];
    const lru = new ByteLru<number>(maxBytes, sizeOf, (k, v) => evicted.push([k, v]));
    const model = new Model(maxBytes, sizeOf);
    for (let op = 0; op < 20_000; op++) {
      const key = `k${int(keySpace)}${"x".repeat(int(3) === 0 ? int(20) : 0)}`;
      const r = rnd();
      if (r < 0.45) {
        const value = rnd() < 0.02 ? maxBytes + int(100) : int(maxBytes / 6);
        lru.set(key, value);
        model.set(key, value);
      } else if (r < 0.85) assert.equal(lru.get(key), model.get(key), `get ${key} at op ${op}`);
      else if (r < 0.93) {
        lru.delete(key);
        model.delete(key);
      } else if (r < 0.96) {
        assert.equal(lru.peek(key), model.items.find((e) => e.key === key)?.value);
        assert.equal(
          lru.has(key),
          model.items.some((e) => e.key === key),
        );
      } else if (r < 0.995) {
        // An expiry sweep: delete as it iterates (iq-control.ts does).
        const seen: string[] = [];
        for (const [k, v] of lru.entries()) {
          seen.push(k);
          if (v % 3 === 0) lru.delete(k);
        }
        assert.deepEqual(
          seen,
          model.items.map((e) => e.key),
        );
        for (const e of [...model.items]) if (e.value % 3 === 0) model.delete(e.key);
      } else {
        lru.clear();
        model.clear();
      }
      assert.equal(lru.bytes, model.bytes, `bytes at op ${op}`);
      assert.equal(lru.size, model.items.length, `size at op ${op}`);
      assert.ok(lru.bytes <= maxBytes);
      if (op % 97 === 0)
        assert.deepEqual(
          [...lru.entries()],
          model.items.map((e) => [e.key, e.value]),
          `order at op ${op}`,
        );
    }
    assert.deepEqual(evicted, model.evicted);
    assert.ok(model.evicted.length > 100, `evictions exercised (${model.evicted.length})`);
  });
}
