// What one Redis connection holds while Redis does not answer (SIGSTOP for 6 s), with and without the
// store's byte bound (packages/store/src/in-flight-bound.ts), and with "drop the connection on a
// timeout" instead; then the cost of the bound's accounting per command in normal operation, side by
// side with the same connection unwrapped. Each pause variant runs in a child process of its own (clean
// memory figures). Prints JSON as its last line. Run under the bench lock:
//   flock /work/bench.lock node bench/store-in-flight.mjs [pause-seconds] [pairs]
import { fork } from "node:child_process";
import { clearTimeout, setImmediate, setTimeout } from "node:timers";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { InFlightBound, DEFAULT_MAX_IN_FLIGHT_BYTES, RedisStore } from "@cordon/store";
import { startRedis } from "@cordon/harness";
import { loadavg } from "node:os";

const IS_CHILD = process.argv[2] === "child";
const PAUSE_S = Number((IS_CHILD ? process.argv[5] : process.argv[2]) ?? 6);
const PAIRS = Number(process.argv[3] ?? 5);
// As the store's history batch: one EVAL a turn carrying 200 appends of 2 KiB (RPUSH per entry).
const SCRIPT = "for i = 1, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end return #ARGV";
const ENTRY = "x".repeat(2048);
const ARGS = Array.from({ length: 200 }, () => ENTRY);
const mb = (n) => +(n / 1048576).toFixed(1);

function client(url, variant) {
  const c = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (t) => Math.min(50 * t, 1000),
    commandTimeout: variant === "bounded" ? undefined : 2000,
  });
  c.on("error", () => undefined);
  const bound =
    variant === "bounded"
      ? new InFlightBound(c, { maxBytes: DEFAULT_MAX_IN_FLIGHT_BYTES, timeoutMs: 2000, what: "bench" })
      : undefined;
  return { c, bound };
}

const memNow = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
};

/** The store's own path: RedisStore.appendRoomHistory, 200 appends of 2 KiB a turn (batched by the store). */
async function storeChild(url, variant) {
  const store = new RedisStore({
    url,
    // "store-unbounded": the bound out of reach, i.e. the store as it was before it.
    ...(variant === "store-unbounded" ? { maxInFlightBytes: Number.MAX_SAFE_INTEGER } : {}),
  });
  await store.ready();
  const room = "bench@rooms.example.mil";
  globalThis.gc?.();
  const base = memNow();
  let peak = base;
  let peakHeld = 0;
  let calls = 0;
  let failed = 0;
  process.send({ paused: "please" });
  await new Promise((r) => process.once("message", r));
  const end = Date.now() + PAUSE_S * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 200; i++) {
      calls++;
      store.appendRoomHistory(room, ENTRY, 100_000).catch(() => failed++);
    }
    await new Promise((r) => setImmediate(r));
    const m = memNow();
    if (m.rss > peak.rss) peak = m;
    peakHeld = Math.max(peakHeld, store.inFlight().main.bytes);
  }
  process.send({ resume: "please" });
  await new Promise((r) => process.once("message", r));
  const t0 = Date.now();
  await store.ready(120_000);
  for (;;) {
    try {
      await store.getRoomHistory(room, 1);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const recoveredMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  globalThis.gc?.();
  const after = memNow();
  const raw = new Redis(url);
  let landed;
  for (;;) {
    try {
      landed = await raw.llen(store.keys.roomHistory(room));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  raw.disconnect();
  const out = {
    variant,
    appends: calls,
    failed,
    refused_commands: store.inFlight().main.refused,
    peak_held_MB: mb(peakHeld),
    rss_MB: { before: mb(base.rss), peak: mb(peak.rss), after: mb(after.rss) },
    heap_MB: { before: mb(base.heap), peak: mb(peak.heap), after: mb(after.heap) },
    recovered_ms: recoveredMs,
    appends_landed_after_failure: landed,
  };
  await store.close();
  process.send({ result: out });
}

async function child(url, variant) {
  if (variant.startsWith("store-")) return storeChild(url, variant);
  const { c, bound } = client(url, variant);
  if (c.status !== "ready") await new Promise((r) => c.once("ready", r));
  await c.del("h");
  const mem = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
  };
  globalThis.gc?.();
  const base = mem();
  let peak = base;
  let peakQueue = 0;
  let sent = 0;
  let failed = 0;
  let timedOut = 0;
  let drops = 0;
  process.send({ paused: "please" });
  await new Promise((r) => process.once("message", r));
  const end = Date.now() + PAUSE_S * 1000;
  while (Date.now() < end) {
    sent++;
    c.eval(SCRIPT, 1, "h", ...ARGS).catch((err) => {
      failed++;
      if (/timed out/u.test(err.message)) {
        timedOut++;
        // Variant "drop": a timed-out command closes the connection, which flushes ioredis' queue.
        if (variant === "drop" && c.status === "ready") {
          drops++;
          c.disconnect(true);
        }
      }
    });
    await new Promise((r) => setImmediate(r));
    const m = mem();
    if (m.rss > peak.rss) peak = m;
    peakQueue = Math.max(peakQueue, c.commandQueue?.length ?? 0);
  }
  process.send({ resume: "please" });
  await new Promise((r) => process.once("message", r));
  // Redis runs again: wait until this connection answers, then 2 s for memory to come back.
  const t0 = Date.now();
  for (;;) {
    try {
      await c.ping();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const recoveredMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  globalThis.gc?.();
  const after = mem();
  const landed = await c.llen("h");
  const out = {
    variant,
    sent,
    failed,
    timed_out: timedOut,
    refused: bound?.refused ?? 0,
    drops,
    peak_ioredis_queue: peakQueue,
    peak_held_MiB: bound ? mb(bound.maxBytes) : null,
    rss_MB: { before: mb(base.rss), peak: mb(peak.rss), after: mb(after.rss) },
    heap_MB: { before: mb(base.heap), peak: mb(peak.heap), after: mb(after.heap) },
    external_MB: { before: mb(base.external), peak: mb(peak.external), after: mb(after.external) },
    recovered_ms: recoveredMs,
    // Appends Redis ran after SIGCONT although their callers had been told they failed.
    appends_landed_after_failure: landed,
  };
  c.disconnect();
  process.send({ result: out });
}

async function runPause(redisPid, url, variant) {
  const p = fork(new URL(import.meta.url), ["child", url, variant, String(PAUSE_S)], {
    execArgv: ["--expose-gc"],
  });
  return new Promise((resolve, reject) => {
    p.on("message", (m) => {
      if (m.paused) {
        process.kill(redisPid, "SIGSTOP");
        p.send("go");
      } else if (m.resume) {
        process.kill(redisPid, "SIGCONT");
        p.send("go");
      } else if (m.result) resolve(m.result);
    });
    // A variant that dies (the unbounded one ran out of its 4 GB heap once, after SIGCONT) is a result too.
    p.on("exit", (code, signal) => {
      if (code !== 0) resolve({ variant, died: { code, signal } });
    });
    p.on("error", reject);
  });
}

/** Per-command time with and without the accounting: the same workload, alternated, medians. */
async function accounting(url) {
  const plain = client(url, "plain").c;
  const { c: wrapped } = client(url, "bounded");
  for (const c of [plain, wrapped]) if (c.status !== "ready") await new Promise((r) => c.once("ready", r));
  const round = async (c, ops) => {
    const t0 = performance.now();
    for (let i = 0; i < ops; i += 64) {
      const batch = [];
      for (let j = 0; j < 64; j++)
        batch.push(j % 2 ? c.hget("k", `f${j}`) : c.hset("k", `f${j}`, ENTRY.slice(0, 200)));
      await Promise.all(batch);
    }
    return ((performance.now() - t0) * 1000) / ops;
  };
  await round(plain, 20_000);
  await round(wrapped, 20_000);
  const a = [];
  const b = [];
  for (let i = 0; i < PAIRS; i++) {
    a.push(await round(plain, 40_000));
    b.push(await round(wrapped, 40_000));
  }
  // In isolation: the wrapper's own work per command (byte count, WeakSet, closures; the timer, which
  // replaces ioredis' own per-command timer, measured apart), no I/O.
  const isolated = (timeoutMs) => {
    const fakeClient = { sendCommand: (cmd) => cmd.promise };
    const bound = new InFlightBound(fakeClient, { maxBytes: 1 << 30, timeoutMs, what: "x" });
    const N = 200_000;
    const args = ["cordon:user:u@example.mil", "f", ENTRY.slice(0, 200)];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const cmd = {
        name: "hset",
        args,
        promise: undefined,
        resolve: () => undefined,
        reject: () => undefined,
      };
      fakeClient.sendCommand(cmd);
      cmd.resolve("1");
    }
    if (bound.heldBytes !== 0) throw new Error("accounting leaked");
    return ((performance.now() - t0) * 1000) / N;
  };
  // ioredis' own: one Node timer set and cleared per command.
  const timerOnly = () => {
    const N = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) clearTimeout(setTimeout(() => undefined, 2000));
    return ((performance.now() - t0) * 1000) / N;
  };
  isolated(undefined);
  isolated(2000);
  const isolatedUs = isolated(undefined);
  const isolatedTimerUs = isolated(2000);
  const timerUs = timerOnly();
  plain.disconnect();
  wrapped.disconnect();
  const med = (xs) => +[...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)].toFixed(2);
  return {
    pairs: PAIRS,
    commands_per_round: 40_000,
    in_flight: 64,
    us_per_command_plain: a.map((x) => +x.toFixed(2)),
    us_per_command_bounded: b.map((x) => +x.toFixed(2)),
    median_plain_us: med(a),
    median_bounded_us: med(b),
    wrapper_alone_us: +isolatedUs.toFixed(3),
    wrapper_alone_with_timer_us: +isolatedTimerUs.toFixed(3),
    ioredis_timer_alone_us: +timerUs.toFixed(3),
  };
}

if (IS_CHILD) {
  await child(process.argv[3], process.argv[4]);
  process.exit(0);
}

const redis = await startRedis();
const result = { pause_s: PAUSE_S, appends_per_turn: 200, entry_bytes: 2048, load_before: loadavg()[0] };
try {
  const info = new Redis(redis.url);
  const pid = Number((await info.info("server")).match(/process_id:(\d+)/u)[1]);
  info.disconnect();
  result.pause = [];
  for (const v of ["store-unbounded", "store-bounded", "unbounded", "bounded", "drop"]) {
    const flush = new Redis(redis.url);
    await flush.flushall();
    flush.disconnect();
    process.kill(pid, "SIGCONT"); // (a child that died while Redis was stopped)
    const one = await runPause(pid, redis.url, v);
    console.log(JSON.stringify(one));
    result.pause.push(one);
  }
  result.accounting = await accounting(redis.url);
  result.load_after = loadavg()[0];
} finally {
  await redis.stop();
}
console.log(JSON.stringify(result));
