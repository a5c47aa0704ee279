// Instruction counts of the relay's work per checked stanza (decide, audit record, serialisation)
// over bench/relay-decide.mjs's mix, for a load-independent before/after:
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node bench/relay-decide-callgrind.mjs TREE N
// runs 3,000 stanzas to warm up, then N more; (Collected at N) − (Collected at 0), divided by N,
// is the count per stanza. TREE: a built checkout (this one, or a baseline).
import { dirname, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";

const here = resolvePath(dirname(fileURLToPath(import.meta.url)), "..");
const [tree, nText] = process.argv.slice(2);
const N = Number(nText);
const { readFileSync } = await import("node:fs");
const { resolve } = await import("node:path");
const mod = (p) => import(resolve(resolvePath(tree), "packages", p));
const relay = await mod("relay/dist/src/index.js");
const component = await mod("component/dist/src/index.js");
const policy = await mod("policy/dist/src/index.js");
const storeMod = await mod("store/dist/src/index.js");
const rules = await mod("rules/dist/src/index.js");
const bench = readFileSync(resolve(here, "bench/relay-decide.mjs"), "utf8");
// Reuse the bench's mix and peering by evaluating their definitions.
const defs =
  bench.slice(bench.indexOf("const TLPX"), bench.indexOf("async function load(")) +
  bench.slice(bench.indexOf("function peering()"), bench.indexOf("const KINDS"));
const {
  mix,
  peering,
  clearance,
  TLPX: X,
} = new Function(defs + "; return { mix, peering, clearance, TLPX };")();
const corpus = resolve(here, "test/conformance");
const registry = new policy.PolicyRegistry();
for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
  registry.loadString(readFileSync(resolve(corpus, f), "utf8"));
const store = new storeMod.MemoryStore();
for (let u = 0; u < 7; u++)
  await store.setUserClearance(`user${u}@ba.test`, { encoding: "xml", data: clearance(X, [10, 11, 12, 13]) });
await store.setServiceClearance("ba.test", { encoding: "xml", data: clearance(X, [10, 11]) });
const engine = new relay.LabelEngine(registry);
const clearances = new relay.ClearanceSource(new rules.ClearanceReader({ registry, store }), engine);
const p = peering();
p.outbound = relay.defaultRules(p.outbound);
p.inbound = relay.defaultRules(p.inbound);
const ctx = new relay.DirectionContext(relay.directionsOf(p).outbound, engine);
const iqs = new relay.IqTracker({ perSender: Number.MAX_SAFE_INTEGER });
const deps = { engine, clearances, iqs };
const stanzas = mix(1000).map((x) => component.parseElement(x));
const audit = new relay.MemoryAuditSink(false);
// As the component link writes a stanza (send.ts): serialise where the tree has it, else toString.
const serialiseOf = component.serialise ?? ((e) => e.toString());
async function run(n) {
  for (let i = 0; i < n; i++) {
    const st = stanzas[i % stanzas.length];
    const d = await relay.decide(st, ctx, deps);
    if (d.action !== "pass") throw new Error("not relayed");
    if (st.name === "iq") iqs.answer(st.attrs.to, st.attrs.from, d.stanza.attrs.id);
    audit.append(d.audit);
    serialiseOf(d.stanza);
  }
}
await run(3000);
await run(N);
