// Clearance store lookup latency and cross-client notification delay, against a real redis-server
// started by the harness; then the capacity of one Redis primary for the operations Cordon sends it
// (packages/store/README.md, "One primary or Redis Cluster"): for each, the primary's own CPU per
// operation (INFO cpu, main thread) and what one core therefore sustains. Prints JSON as its last line.
//   node bench/store.mjs [iterations] [capacity-seconds]
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { MemoryStore, RedisStore } from "@cordon/store";
import { startRedis } from "@cordon/harness";

const N = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 3);
const raw0 = { encoding: "ber", data: Buffer.alloc(184, 7).toString("base64") };

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
  for (const j of jids) await mem.setUserClearance(j, raw0);
  result.memory = await lookups(mem, jids);

  const uncached = new RedisStore({ url: redis.url, cacheTtlMs: 0 });
  const cached = new RedisStore({ url: redis.url, cacheTtlMs: 60_000 });
  await uncached.ready();
  await cached.ready();
  for (const j of jids) await uncached.setUserClearance(j, raw0);
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
    await uncached.setUserClearance("notify@example.mil", raw0);
    await seen;
    delays.push(performance.now() - t0);
  }
  result.notify_write_to_listener = stats(delays);
  await uncached.close();
  await cached.close();
  result.capacity = await capacity(redis);
} finally {
  await redis.stop();
}
console.log(JSON.stringify(result));

// Redis's main thread CPU seconds so far (INFO cpu; Redis 6+ reports the main thread apart).
async function redisCpuSeconds(raw) {
  const info = await raw.info("cpu");
  const get = (name) => {
    const m = new RegExp(`^${name}:([0-9.]+)`, "mu").exec(info);
    return m ? Number(m[1]) : NaN;
  };
  const main = get("used_cpu_user_main_thread") + get("used_cpu_sys_main_thread");
  return Number.isFinite(main) ? main : get("used_cpu_user") + get("used_cpu_sys");
}

// `inflight` concurrent callers of `op` for `SECONDS`; the primary's CPU per op decides its capacity.
async function measure(raw, op, inflight) {
  for (let i = 0; i < 200; i++) await op(i); // warm
  const cpu0 = await redisCpuSeconds(raw);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) await op(n++);
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const dt = (performance.now() - t0) / 1000;
  const cpu1 = await redisCpuSeconds(raw);
  const client = process.cpuUsage(c0);
  const redisUs = ((cpu1 - cpu0) * 1e6) / n;
  return {
    ops: n,
    inflight,
    ops_per_s: Math.round(n / dt),
    redis_cpu_us_per_op: +redisUs.toFixed(2),
    client_cpu_us_per_op: +((client.user + client.system) / n).toFixed(2),
    // Redis executes commands on one thread: one core of it sustains this many.
    one_core_ops_per_s: Math.round(1e6 / redisUs),
  };
}

async function capacity(redis) {
  const raw = new Redis(redis.url);
  const out = { seconds: SECONDS };
  const rooms = Array.from({ length: 1000 }, (_, i) => `room${i}@rooms.example.mil`);
  // A history entry as the MUC stores it (JSON with the label XML): about 700 bytes.
  const entry = JSON.stringify({
    sid: "AAAAAAAAAAAAAAAA",
    id: "message-id-0001",
    ts: Date.now(),
    nick: "Alice",
    occupantId: "o".repeat(43),
    from: "alice@example.mil/laptop",
    label: `<securitylabel xmlns='urn:xmpp:sec-label:0'>${"<x/>".repeat(60)}</securitylabel>`,
    body: "b".repeat(120),
    extra: "",
  });
  try {
    for (const pipelining of [false, true]) {
      const store = new RedisStore({
        url: redis.url,
        prefix: "cap:",
        cacheTtlMs: 0,
        ...(pipelining ? { redisOptions: { enableAutoPipelining: true } } : {}),
      });
      await store.ready();
      const tag = pipelining ? "_autopipelining" : "";
      // One per groupchat message in a persistent room (MULTI RPUSH LTRIM EXEC): Cordon's main load.
      out[`history_append${tag}`] = await measure(
        raw,
        (i) => store.appendRoomHistory(rooms[i % rooms.length], entry, 200),
        64,
      );
      // A clearance lookup that misses the cache (HGETALL): joins, refreshes, cold caches.
      out[`clearance_lookup${tag}`] = await measure(
        raw,
        (i) => store.getUserClearance(jids[i % jids.length]),
        64,
      );
      await store.close();
    }
    // An admin change: MULTI HSET SADD PUBLISH, with 8 subscribed component processes.
    const subscribers = [];
    for (let i = 0; i < 8; i++) {
      const s = new RedisStore({ url: redis.url, prefix: "cap:" });
      await s.ready();
      subscribers.push(s);
    }
    const writer = new RedisStore({ url: redis.url, prefix: "cap:" });
    await writer.ready();
    out.clearance_write_8_subscribers = await measure(
      raw,
      (i) => writer.setUserClearance(jids[i % jids.length], raw0),
      16,
    );
    await writer.close();
    for (const s of subscribers) await s.close();
    out.redis_used_memory_bytes = Number(/^used_memory:(\d+)/mu.exec(await raw.info("memory"))?.[1]);
  } finally {
    raw.disconnect();
  }
  return out;
}
