// Clearance store lookup latency and cross-client notification delay, against a real redis-server
// started by the harness. Prints JSON as its last line.
//   node bench/store.mjs [iterations]
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { MemoryStore, RedisStore } from "@cordon/store";
import { startRedis } from "@cordon/harness";

const N = Number(process.argv[2] ?? 5000);
const raw = { encoding: "ber", data: Buffer.alloc(184, 7).toString("base64") };

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_us: +(q(0.5) * 1000).toFixed(1), p99_us: +(q(0.99) * 1000).toFixed(1) };
}

async function lookups(store, jids) {
  const t = [];
  for (let i = 0; i < N; i++) {
    const j = jids[i % jids.length];
    const t0 = performance.now();
    const r = await store.getUserClearance(j);
    t.push(performance.now() - t0);
    if (r.status !== "known") throw new Error(`unexpected ${r.status}`);
  }
  return stats(t);
}

const redis = await startRedis();
const jids = Array.from({ length: 1000 }, (_, i) => `user${i}@example.mil`);
const result = { iterations: N };
try {
  const mem = new MemoryStore();
  for (const j of jids) await mem.setUserClearance(j, raw);
  result.memory = await lookups(mem, jids);

  const uncached = new RedisStore({ url: redis.url, cacheTtlMs: 0 });
  const cached = new RedisStore({ url: redis.url, cacheTtlMs: 60_000 });
  await uncached.ready();
  await cached.ready();
  for (const j of jids) await uncached.setUserClearance(j, raw);
  result.redis_uncached = await lookups(uncached, jids);
  await lookups(cached, jids); // warm
  result.redis_cached = await lookups(cached, jids);

  // Notification delay: write through one client, time until the other's listener runs.
  const delays = [];
  for (let i = 0; i < 500; i++) {
    const seen = new Promise((resolve) => {
      const un = cached.subscribe((e) => {
        if (e.kind === "user-clearance" && e.jid === "notify@example.mil") {
          un();
          resolve(undefined);
        }
      });
    });
    const t0 = performance.now();
    await uncached.setUserClearance("notify@example.mil", raw);
    await seen;
    delays.push(performance.now() - t0);
  }
  result.notify_write_to_listener = stats(delays);
  await uncached.close();
  await cached.close();
} finally {
  await redis.stop();
}
console.log(JSON.stringify(result));
