// Relay throughput: stanzas/s from a client on one Prosody to a client on another, through the
// relay with every check on (label resolution and translation, direction and sender clearances,
// folding, file-transfer and content checks, audit chain to a file) vs a passthrough relay (loop
// guard only), in the same run on the same servers. Rounds alternate; the median of each counts.
// Also the relay's own CPU per decision, in process. Last line: one JSON object.
//   endToEnd.checksPerSecond / passthroughPerSecond / ratio   (goal ratio >= 0.9)
//   inProcess.checksPerSecond / passthroughPerSecond          (decisions/s, one core)
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { startServer, connectClient, xml } from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { ClearanceReader } from "@cordon/rules";
import {
  createRelay,
  defaultRules,
  FileAuditSink,
  MemoryAuditSink,
  randomAuditKey,
  LabelEngine,
  ClearanceSource,
  DirectionContext,
  decide,
  directionsOf,
  routeOf,
} from "@cordon/relay";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const corpus = resolve(root, "test/conformance");
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

const registry = new PolicyRegistry();
for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
  registry.loadString(readFileSync(resolve(corpus, f), "utf8"));
const store = new MemoryStore();
await store.setUserClearance("alice@ba.test", { encoding: "xml", data: clearance(TLPX, [10, 11, 12, 13]) });
await store.setServiceClearance("ba.test", { encoding: "xml", data: clearance(TLPX, [10, 11]) });

function peering(a, b) {
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

// ---- end to end, through two real Prosody servers
const [a, b] = await Promise.all([
  startServer("prosody", {
    domain: "ba.test",
    components: [{ domain: "bb.test", secret: SECRET }],
    users: [{ username: "alice", password: "pw" }],
  }),
  startServer("prosody", {
    domain: "bb.test",
    components: [{ domain: "ba.test", secret: SECRET }],
    users: [{ username: "bob", password: "pw" }],
  }),
]);
const dir = mkdtempSync(join(tmpdir(), "cordon-bench-relay-"));
const results = { checks: [], passthrough: [] };
let lost = 0;
try {
  const alice = await connectClient(a, "alice", "pw");
  const bob = await connectClient(b, "bob", "pw");
  // Round -1 warms up the JIT, the servers and the caches; it is not counted.
  for (let round = -1; round < ROUNDS; round++) {
    for (const mode of round % 2 !== 0 ? ["passthrough", "checks"] : ["checks", "passthrough"]) {
      const audit =
        mode === "checks"
          ? await FileAuditSink.open(join(dir, `audit-${round}.jsonl`), { key: randomAuditKey() })
          : new MemoryAuditSink(false);
      const relay = createRelay({
        peerings: [peering(a, b)],
        registry,
        store,
        audit,
        passthrough: mode === "passthrough",
        reconnect: { initialMs: 50, maxMs: 200 },
      });
      await relay.start();
      bob.received.length = 0;
      const last = `b${round}-${mode}-end`;
      const done = bob.waitFor((el) => el.name === "message" && el.attrs.id === last, 120_000);
      const t0 = performance.now();
      for (let i = 0; i < MESSAGES; i++) alice.send(message(`${round}-${mode}-${i}`));
      const end = message(0);
      end.attrs.id = last;
      await alice.send(end);
      await done;
      const seconds = (performance.now() - t0) / 1000;
      const got = bob.received.filter((el) => el.name === "message").length;
      lost += MESSAGES + 1 - got;
      if (round >= 0) results[mode].push((MESSAGES + 1) / seconds);
      else lost -= MESSAGES + 1 - got;
      await relay.stop();
    }
  }
  await alice.stop();
  await bob.stop();
} finally {
  await Promise.allSettled([a.stop(), b.stop()]);
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
const checkOne = (s) => decide(s, ctx, { engine, clearances });
const passOne = async (s) => routeOf(s, outbound);
await inProcess(checkOne, 300);
const inChecks = await inProcess(checkOne);
const inPass = await inProcess(passOne);
const sample = await checkOne(incoming[0]);
if (sample.action !== "pass")
  throw new Error(`bench stanza was not relayed: ${JSON.stringify(sample.audit)}`);

const checks = median(results.checks);
const passthrough = median(results.passthrough);
console.log(
  `end to end (${MESSAGES + 1} messages x ${ROUNDS} rounds): checks ${results.checks.map((x) => x.toFixed(0)).join(", ")} /s; passthrough ${results.passthrough.map((x) => x.toFixed(0)).join(", ")} /s`,
);
console.log(
  `in process: checks ${inChecks.toFixed(0)} decisions/s (${(1e6 / inChecks).toFixed(1)} us each), passthrough ${inPass.toFixed(0)}/s`,
);
console.log(
  JSON.stringify({
    messages: MESSAGES + 1,
    rounds: ROUNDS,
    lost,
    endToEnd: {
      checksPerSecond: Math.round(checks),
      passthroughPerSecond: Math.round(passthrough),
      ratio: Number((checks / passthrough).toFixed(3)),
    },
    inProcess: {
      checksPerSecond: Math.round(inChecks),
      passthroughPerSecond: Math.round(inPass),
      microsecondsPerCheckedStanza: Number((1e6 / inChecks).toFixed(2)),
    },
  }),
);
