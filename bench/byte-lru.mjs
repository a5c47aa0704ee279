// @cordon/policy ByteLru, this build side by side with another (e.g. integ's), in one process,
// rounds alternated: what a full cache costs per store (each store evicts the oldest), a store with
// room to spare replacing an entry, a hit among a few hot keys, and a hit spread over every key.
// The shape is the store's clearance cache (packages/store/src/ttl-cache.ts): 10,000 users, keys
// like "user123@example.mil", values counted ~400 bytes. Prints JSON as its last line. Run:
//   flock /work/bench.lock node bench/byte-lru.mjs <other-policy-dist> [rounds] [ops]
// where <other-policy-dist> is the other build's packages/policy/dist (under this repository, so its
// own imports resolve).
import { performance } from "node:perf_hooks";
import { loadavg } from "node:os";
import path from "node:path";

const OTHER = process.argv[2];
const ROUNDS = Number(process.argv[3] ?? 9);
const OPS = Number(process.argv[4] ?? 50_000);
const USERS = 10_000;
const VALUE_BYTES = 400;
const here = path.resolve(import.meta.dirname, "..");
const builds = {
  other: await import(path.join(path.resolve(OTHER), "src/cache.js")),
  this: await import(path.join(here, "packages/policy/dist/src/cache.js")),
};

const key = (i) => `user${i}@example.mil`;
const entryBytes = (k) => 2 * k.length + VALUE_BYTES + 96;
// A budget that holds exactly USERS of the keys below (their lengths vary with i).
let budget = 0;
for (let i = 0; i < USERS; i++) budget += entryBytes(key(i));

function fill(ByteLru) {
  const lru = new ByteLru(budget, () => VALUE_BYTES);
  for (let i = 0; i < USERS; i++) lru.set(key(i), { i });
  return lru;
}

// Keys made before timing: the loop measures the cache, not the string building.
const fresh = Array.from({ length: OPS }, (_, i) => key(USERS + i));
const spread = Array.from({ length: OPS }, (_, i) => key((i * 7919) % USERS));
const hot = Array.from({ length: OPS }, (_, i) => key(USERS - 1 - (i % 100)));

function time(fn) {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1000) / OPS; // µs per op
}

const cases = {
  // Full: every store of a new key evicts the oldest (as a cache under churn).
  evictingStore: (ByteLru) => {
    const lru = fill(ByteLru);
    return time(() => {
      for (let i = 0; i < OPS; i++) lru.set(fresh[i], { i });
    });
  },
  // Room to spare (double budget), an existing key stored again: a delete and a set.
  replaceWithRoom: (ByteLru) => {
    const lru = new ByteLru(2 * budget, () => VALUE_BYTES);
    for (let i = 0; i < USERS; i++) lru.set(key(i), { i });
    return time(() => {
      for (let i = 0; i < OPS; i++) lru.set(spread[i], { i });
    });
  },
  hitSpread: (ByteLru) => {
    const lru = fill(ByteLru);
    let n = 0;
    const us = time(() => {
      for (let i = 0; i < OPS; i++) if (lru.get(spread[i]) !== undefined) n++;
    });
    if (n !== OPS) throw new Error("misses in hitSpread");
    return us;
  },
  hitHot: (ByteLru) => {
    const lru = fill(ByteLru);
    let n = 0;
    const us = time(() => {
      for (let i = 0; i < OPS; i++) if (lru.get(hot[i]) !== undefined) n++;
    });
    if (n !== OPS) throw new Error("misses in hitHot");
    return us;
  },
};

const samples = {};
for (const c of Object.keys(cases)) samples[c] = { other: [], this: [] };
const load = [loadavg()[0]];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? ["other", "this"] : ["this", "other"];
  for (const c of Object.keys(cases)) for (const b of order) samples[c][b].push(cases[c](builds[b].ByteLru));
  load.push(loadavg()[0]);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const round3 = (x) => Math.round(x * 1000) / 1000;
const result = {
  bench: "byte-lru",
  other: OTHER,
  rounds: ROUNDS,
  opsPerRound: OPS,
  entries: USERS,
  budgetBytes: budget,
  loadAverage: { min: round3(Math.min(...load)), max: round3(Math.max(...load)) },
  usPerOp: Object.fromEntries(
    Object.entries(samples).map(([c, s]) => [
      c,
      {
        other: {
          median: round3(median(s.other)),
          min: round3(Math.min(...s.other)),
          max: round3(Math.max(...s.other)),
        },
        this: {
          median: round3(median(s.this)),
          min: round3(Math.min(...s.this)),
          max: round3(Math.max(...s.this)),
        },
      },
    ]),
  ),
};
for (const [c, v] of Object.entries(result.usPerOp))
  console.log(`${c.padEnd(16)} other ${v.other.median} µs   this ${v.this.median} µs`);
console.log(JSON.stringify(result));
