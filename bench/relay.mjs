// Relay throughput: stanzas/s from a client on one server to a client on another, through the
// relay with every check on (label resolution and translation, direction and sender clearances,
// folding, file-transfer and content checks, audit chain to a file) vs a passthrough relay (loop
// guard only), in the same run on the same servers. Rounds alternate; the median of each counts.
// Also the relay's own CPU per decision, in process. Last line: one JSON object.
//   pairs[].endToEnd.checksPerSecond / passthroughPerSecond / ratio   (goal ratio >= 0.9)
//   inProcess.checksPerSecond / passthroughPerSecond                  (decisions/s, one core)
//
//   node bench/relay.mjs [--pairs prosody:ejabberd,ejabberd:prosody] [--baseline DIR]
// --pairs: sender's server:recipient's server, each pair started afresh (default both ways
// between Prosody and ejabberd). --baseline: a built checkout of an older commit whose relay runs
// as a third mode ("baseline") in the same rounds, so before and after share the machine's load.
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { startServer, connectClient, xml } from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { ClearanceReader } from "@cordon/rules";
import * as current from "@cordon/relay";
import {
  LabelEngine,
  ClearanceSource,
  DirectionContext,
  IqTracker,
  decide,
  directionsOf,
  routeOf,
} from "@cordon/relay";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const corpus = resolve(root, "test/conformance");
const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "prosody:ejabberd,ejabberd:prosody" },
    baseline: { type: "string" },
  },
});
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAIRS = args.pairs.split(",").map((p) => p.split(":"));
/** The relay package of each code base: this checkout's, and the baseline's when given. */
const relays = { checks: current };
const registries = { checks: undefined };
const stores = { checks: undefined };
if (args.baseline) {
  const dir = resolve(args.baseline, "packages");
  relays.baseline = await import(pathToFileURL(resolve(dir, "relay/dist/src/index.js")).href);
}
const TLPX = "1.3.6.1.4.1.99999.2.2";
const TLP = "1.3.6.1.4.1.99999.2.3";
const SPIFFY = "http://surevine.com/xmlns/spiffy";
const SECRET = "bench-secret";

const label = (p, lacv, cats = []) =>
  `<label xmlns='${SPIFFY}'><policy id='${p}'/><classification lacv='${lacv}'/>${cats.map((c) => `<tag type='permissive' id='${p}.1' lacv='${c}'/>`).join("")}</label>`;
const clearance = (p, lacvs) =>
  `<clearance xmlns='${SPIFFY}'><policy id='${p}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}${(p === TLP ? [0, 1] : [0, 1, 2]).map((c) => `<tag type='permissive' id='${p}.1' lacv='${c}'/>`).join("")}</clearance>`;
const securityLabel = () =>
  parseElement(
    `<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>whatever</displaymarking><label>${label(TLPX, 12, [0])}</label></securitylabel>`,
  );

async function policyAndStore(Registry, Store) {
  const registry = new Registry();
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    registry.loadString(readFileSync(resolve(corpus, f), "utf8"));
  const store = new Store();
  await store.setUserClearance("alice@ba.test", { encoding: "xml", data: clearance(TLPX, [10, 11, 12, 13]) });
  await store.setServiceClearance("ba.test", { encoding: "xml", data: clearance(TLPX, [10, 11]) });
  return { registry, store };
}
const { registry, store } = await policyAndStore(PolicyRegistry, MemoryStore);
registries.checks = registries.passthrough = registry;
stores.checks = stores.passthrough = store;
if (args.baseline) {
  const dir = resolve(args.baseline, "packages");
  const policy = await import(pathToFileURL(resolve(dir, "policy/dist/src/index.js")).href);
  const storeMod = await import(pathToFileURL(resolve(dir, "store/dist/src/index.js")).href);
  const b = await policyAndStore(policy.PolicyRegistry, storeMod.MemoryStore);
  registries.baseline = b.registry;
  stores.baseline = b.store;
}
relays.passthrough = current;

function peering(a, b, defaultRules = current.defaultRules) {
  const rules = {
    unlabelled: { message: "default", presence: "default", iq: "default" },
    chatStates: "strip",
    receipts: "strip",
    elements: [{ ns: "http://jabber.org/protocol/xhtml-im", action: "strip" }],
    content: [
      { words: ["excalibur", "operation dawn", "sword"] },
      { words: ["draft"], classifications: ["RED"] },
    ],
  };
  return {
    name: "bench",
    local: {
      service: `xmpp://127.0.0.1:${a.componentPort}`,
      secret: SECRET,
      domains: ["ba.test"],
      mucDomains: [],
      policy: TLPX,
      labelAware: true,
      markingLang: "",
    },
    remote: {
      service: `xmpp://127.0.0.1:${b.componentPort}`,
      secret: SECRET,
      domains: ["bb.test"],
      mucDomains: [],
      policy: TLP,
      labelAware: true,
      markingLang: "",
    },
    outbound: defaultRules({
      ...rules,
      defaultLabel: label(TLPX, 11),
      clearance: clearance(TLP, [10, 11, 12]),
    }),
    inbound: defaultRules({
      ...rules,
      defaultLabel: label(TLP, 10),
      clearance: clearance(TLPX, [10, 11, 12]),
    }),
  };
}

function message(i) {
  return xml(
    "message",
    { type: "chat", to: "bob@bb.test", id: `b${i}` },
    xml("body", {}, `message ${i}: the quick brown fox jumps over the lazy dog`),
    xml("active", { xmlns: "http://jabber.org/protocol/chatstates" }),
    securityLabel(),
  );
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

// ---- end to end, through two real servers per pair
const modes = ["passthrough", "checks", ...(args.baseline ? ["baseline"] : [])];
const pairResults = [];
let lost = 0;
for (const [kindA, kindB] of PAIRS) {
  const [a, b] = await Promise.all([
    startServer(kindA, {
      domain: "ba.test",
      components: [{ domain: "bb.test", secret: SECRET }],
      users: [{ username: "alice", password: "pw" }],
    }),
    startServer(kindB, {
      domain: "bb.test",
      components: [{ domain: "ba.test", secret: SECRET }],
      users: [{ username: "bob", password: "pw" }],
    }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), "cordon-bench-relay-"));
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  try {
    const alice = await connectClient(a, "alice", "pw");
    const bob = await connectClient(b, "bob", "pw");
    // Round -1 warms up the JIT, the servers and the caches; it is not counted. The modes rotate.
    for (let round = -1; round < ROUNDS; round++) {
      const shift = (round + 1) % modes.length;
      for (const mode of [...modes.slice(shift), ...modes.slice(0, shift)]) {
        const R = relays[mode];
        const audit =
          mode === "passthrough"
            ? new R.MemoryAuditSink(false)
            : await R.FileAuditSink.open(join(dir, `audit-${round}-${mode}.jsonl`), {
                key: R.randomAuditKey(),
              });
        const relay = R.createRelay({
          peerings: [peering(a, b, R.defaultRules)],
          registry: registries[mode],
          store: stores[mode],
          audit,
          passthrough: mode === "passthrough",
          reconnect: { initialMs: 50, maxMs: 200 },
          // One sender sends the whole burst at once: the per-sender bound of stanzas waiting for
          // their decision and audit write (50 by default, a bound against one flooding account)
          // would refuse most of it. The bench measures throughput, so every mode holds the burst.
          limits: {
            pending: {
              perSender: MESSAGES + 10,
              perSenderBytes: 256 * 1024 * 1024,
              total: MESSAGES + 10,
              totalBytes: 256 * 1024 * 1024,
            },
          },
        });
        await relay.start();
        bob.received.length = 0;
        const last = `b${round}-${mode}-end`;
        const done = bob.waitFor((el) => el.name === "message" && el.attrs.id === last, 120_000);
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < MESSAGES; i++) alice.send(message(`${round}-${mode}-${i}`));
        const end = message(0);
        end.attrs.id = last;
        await alice.send(end);
        await done;
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const got = bob.received.filter((el) => el.name === "message").length;
        if (round >= 0) {
          lost += MESSAGES + 1 - got;
          results[mode].push({
            rate: (MESSAGES + 1) / seconds,
            cpuUs: (cpu.user + cpu.system) / (MESSAGES + 1),
          });
        }
        await relay.stop();
      }
    }
    await alice.stop();
    await bob.stop();
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
  }
  const rate = (m) => median(results[m].map((r) => r.rate));
  const pair = {
    pair: `${kindA}->${kindB}`,
    checksPerSecond: Math.round(rate("checks")),
    passthroughPerSecond: Math.round(rate("passthrough")),
    ratio: Number((rate("checks") / rate("passthrough")).toFixed(3)),
    rounds: Object.fromEntries(modes.map((m) => [m, results[m].map((r) => Math.round(r.rate))])),
    // CPU of this whole process (clients and relay) per message, median round: for comparison only.
    processCpuUsPerMessage: Object.fromEntries(
      modes.map((m) => [m, Number(median(results[m].map((r) => r.cpuUs)).toFixed(1))]),
    ),
  };
  if (args.baseline) {
    pair.baselinePerSecond = Math.round(rate("baseline"));
    pair.baselineRatio = Number((rate("baseline") / rate("passthrough")).toFixed(3));
  }
  pairResults.push(pair);
  console.log(
    `${pair.pair} (${MESSAGES + 1} messages x ${ROUNDS} rounds): ${modes.map((m) => `${m} ${pair.rounds[m].join(", ")} /s`).join("; ")}; ratio ${pair.ratio}${args.baseline ? ` (baseline ${pair.baselineRatio})` : ""}`,
  );
}

// ---- in process: the relay's own CPU per decision
const engine = new LabelEngine(registry);
const clearances = new ClearanceSource(new ClearanceReader({ registry: engine.registry, store }), engine);
const { outbound } = directionsOf(peering({ componentPort: 1 }, { componentPort: 2 }));
const ctx = new DirectionContext(outbound, engine);
const incoming = Array.from({ length: 1000 }, (_, i) => {
  const m = message(i);
  m.attrs.from = "alice@ba.test/r";
  return parseElement(m.toString());
});
async function inProcess(fn, ms = 1500) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (const s of incoming) await fn(s);
    n += incoming.length;
  }
  return n / ((performance.now() - t0) / 1000);
}
const iqs = new IqTracker();
const checkOne = (s) => decide(s, ctx, { engine, clearances, iqs });
const passOne = async (s) => routeOf(s, outbound);
await inProcess(checkOne, 300);
const inChecks = await inProcess(checkOne);
const inPass = await inProcess(passOne);
const sample = await checkOne(incoming[0]);
if (sample.action !== "pass")
  throw new Error(`bench stanza was not relayed: ${JSON.stringify(sample.audit)}`);

console.log(
  `in process: checks ${inChecks.toFixed(0)} decisions/s (${(1e6 / inChecks).toFixed(1)} us each), passthrough ${inPass.toFixed(0)}/s`,
);
console.log(
  JSON.stringify({
    messages: MESSAGES + 1,
    rounds: ROUNDS,
    lost,
    pairs: pairResults,
    inProcess: {
      checksPerSecond: Math.round(inChecks),
      passthroughPerSecond: Math.round(inPass),
      microsecondsPerCheckedStanza: Number((1e6 / inChecks).toFixed(2)),
    },
  }),
);
