// The steady-state cost of the store's stall watch (packages/store/src/stall-watch.ts) per stanza:
// a component's incoming hold gated on RedisStore.notificationsHeard(), each stanza then looked up
// in the clearance cache (what MUC, guard and relay do), side by side with another build of the
// store and component (e.g. integ's). Stanzas come in batches of BATCH a loop turn, as from one
// socket read. Also the gate alone (notificationsHeard(), ns a call), how often a stanza was held (a stall seen, or lag), and the idle CPU of a
// store (the 20 ms tick). Prints JSON as its last line. Run under the bench lock:
//   flock /work/bench.lock node bench/store-stall.mjs <other-build-root> [rounds] [turns]
// where <other-build-root> holds packages/store/dist and packages/component/dist of the other build.
import { performance } from "node:perf_hooks";
import { setImmediate as turn, setTimeout as sleep } from "node:timers/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { startRedis } from "@cordon/harness";

const OTHER = process.argv[2];
const ROUNDS = Number(process.argv[3] ?? 8);
const TURNS = Number(process.argv[4] ?? 500);
const BATCH = 20;
const JID = "bob@example.mil";
const CLEARANCE = { encoding: "ber", data: Buffer.from([0x30, 0x03, 0x06, 0x01, 0x2a]).toString("base64") };

const here = path.resolve(import.meta.dirname, "..");
const builds = {
  other: {
    store: await import(path.join(path.resolve(OTHER), "packages/store/dist/src/index.js")),
    component: await import(path.join(path.resolve(OTHER), "packages/component/dist/src/index.js")),
  },
  this: {
    store: await import(path.join(here, "packages/store/dist/src/index.js")),
    component: await import(path.join(here, "packages/component/dist/src/index.js")),
  },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function round(name, url) {
  const { store: S, component: C } = builds[name];
  const store = new S.RedisStore({ url, prefix: `bs-${name}:`, cacheTtlMs: 600_000 });
  await store.ready();
  await store.setUserClearance(JID, CLEARANCE);
  while (store.notificationsHeard() !== undefined) await sleep(5);
  await store.getUserClearance(JID);
  let held = 0;
  let decided = 0;
  const hold = C.createIncomingHold({
    dispatch: () => {
      decided++;
      void store.getUserClearance(JID);
    },
    refuse: () => undefined,
  });
  hold.gate(() => {
    const p = store.notificationsHeard();
    if (p) held++;
    return p;
  });
  const stanza = C.xml("message", { from: "a@x/r", to: "room@muc.x", id: "1" }, C.xml("body", {}, "hi"));
  const perStanza = [];
  const cpu0 = process.cpuUsage();
  for (let t = 0; t < TURNS; t++) {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) hold.receive(stanza);
    perStanza.push(((performance.now() - t0) * 1000) / BATCH);
    await turn();
  }
  const cpu = process.cpuUsage(cpu0);
  while (decided < TURNS * BATCH) await sleep(1);
  // The gate alone: notificationsHeard() in batches of 1000 a turn.
  const gateNs = [];
  for (let t = 0; t < 50; t++) {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) store.notificationsHeard();
    gateNs.push((performance.now() - t0) * 1000);
    await turn();
  }
  // Idle: the store alone for 2 s (its PING every 250 ms, and here its 20 ms tick).
  const idle0 = process.cpuUsage();
  await sleep(2000);
  const idle = process.cpuUsage(idle0);
  await store.close();
  return {
    medianUs: median(perStanza),
    p99Us: pct(perStanza, 0.99),
    cpuUsPerStanza: (cpu.user + cpu.system) / (TURNS * BATCH),
    heldStanzas: held,
    gateNs: median(gateNs),
    idleCpuUsPerS: (idle.user + idle.system) / 2,
  };
}

const redis = await startRedis();
const results = { other: [], this: [] };
try {
  for (let r = 0; r < ROUNDS; r++)
    for (const name of r % 2 ? ["this", "other"] : ["other", "this"])
      results[name].push(await round(name, redis.url));
} finally {
  await redis.stop();
}
const sum = (name) => {
  const rs = results[name];
  return {
    medianUsPerStanza: +median(rs.map((x) => x.medianUs)).toFixed(3),
    p99UsPerStanza: +median(rs.map((x) => x.p99Us)).toFixed(3),
    cpuUsPerStanza: +median(rs.map((x) => x.cpuUsPerStanza)).toFixed(3),
    heldStanzasPerRound: rs.map((x) => x.heldStanzas),
    gateNsPerCall: +median(rs.map((x) => x.gateNs)).toFixed(1),
    idleCpuUsPerS: +median(rs.map((x) => x.idleCpuUsPerS)).toFixed(0),
  };
};
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    stanzasPerRound: TURNS * BATCH,
    loadavg: loadavg().map((x) => +x.toFixed(1)),
    other: sum("other"),
    this: sum("this"),
  }),
);
