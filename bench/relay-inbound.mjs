// The cost of locating each recipient session of a message Cordon's relay delivers (issue 17,
// inbound across the relay; packages/guard/src/component-delivery.ts): a trusted XEP-0114
// component standing for the relay's claimed peer domain sends chat messages one at a time to a
// user of the guarded server, each timed from the component's send to the user's session
// receiving it — the module loaded in every mode, with the component listed in `inbound_unasked`
// ("unasked": not asked, as every trusted component was before), and not ("located": asked with
// origin='component'; with the module's verdict cache, default 2 s, and without it, "located-nocache":
// one round trip to the guard per message). Unlabelled and SECRET-labelled. The added cost is the
// difference of the medians (and p90s). The guard runs in this process. The last line of stdout is
// one JSON object.
//
//   flock /work/bench.lock node bench/relay-inbound.mjs [--servers prosody,ejabberd] [--messages 300]
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const servers = (args.servers ?? "prosody,ejabberd").split(",");
const messages = Number(args.messages ?? 300);
const WARMUP = 30;

const { startServer, connectClient } = await import("@cordon/harness");
const { createComponent, xml, parseElement } = await import("@cordon/component");
const { createGuardService } = await import("@cordon/guard");
const { PolicyRegistry, makeLabel, makeClearance, buildSecurityLabelXml } = await import("@cordon/policy");
const { MemoryStore } = await import("@cordon/store");
const { fileURLToPath } = await import("node:url");
const { dirname, resolve } = await import("node:path");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const registry = new PolicyRegistry();
const policy = registry.loadFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"));
const cls = (n) => policy.classificationByName.get(n);
const all = policy.classifications;
const SECRET_XML = buildSecurityLabelXml(makeLabel(policy, cls("SECRET"), []));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round3 = (x) => Math.round(x * 1000) / 1000;

/** The guard's decisions per mode (a check that the modes ask what they say). */
const decided = {};

async function run(kind, mode) {
  decided[`${kind}/${mode}`] = 0;
  const domain = `${kind}-inbench.test`;
  const peer = `peer.${domain}`;
  const server = await startServer(kind, {
    domain,
    users: [{ username: "alice", password: "pw" }],
    components: [
      { domain: `guard.${domain}`, secret: "guard" },
      { domain: peer, secret: "peer" },
    ],
    guard: {
      component: `guard.${domain}`,
      timeoutSeconds: 2,
      trusted: [peer],
      ...(mode === "unasked" ? { inboundUnasked: [peer] } : {}),
      ...(mode === "located-nocache" ? { cacheSeconds: 0 } : {}),
    },
  });
  const component = createComponent({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: peer,
    secret: "peer",
  });
  const guard = createGuardService({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: `guard.${domain}`,
    secret: "guard",
    served: [domain],
    registry,
    store: new MemoryStore(),
    defaultLabel: makeLabel(policy, cls("UNCLASSIFIED"), []),
    locations: [{ ranges: ["127.0.0.0/8"], clearance: makeClearance(policy, all, []) }],
    onDecision: () => decided[`${kind}/${mode}`]++,
  });
  try {
    await component.start();
    await guard.start();
    await delay(500);
    const client = await connectClient(server, "alice", "pw", "desk", { localAddress: "127.0.0.1" });
    const out = {};
    try {
      for (const label of ["unlabelled", "SECRET"]) {
        const times = [];
        for (let i = 0; i < WARMUP + messages; i++) {
          const id = `${label}-${i}`;
          const got = client.waitFor((m) => m.attrs.id === id, 10_000);
          const children = [
            xml("body", {}, `m ${i}`),
            ...(label === "SECRET" ? [parseElement(SECRET_XML)] : []),
          ];
          const t0 = performance.now();
          await component.send(
            xml(
              "message",
              { from: `bob@${peer}/desk`, to: `alice@${domain}`, id, type: "chat" },
              ...children,
            ),
          );
          await got;
          if (i >= WARMUP) times.push(performance.now() - t0);
        }
        out[label] = {
          p50: round3(pct(times, 50)),
          p90: round3(pct(times, 90)),
          p99: round3(pct(times, 99)),
        };
      }
    } finally {
      await client.stop();
    }
    return out;
  } finally {
    await component.stop().catch(() => undefined);
    await guard.stop();
    await server.stop();
  }
}

const { loadavg } = await import("node:os");
const results = [];
for (const kind of servers) {
  const load = loadavg()[0];
  const ms = {};
  for (const mode of ["unasked", "located", "located-nocache"]) ms[mode] = await run(kind, mode);
  const added = (mode) =>
    Object.fromEntries(
      Object.keys(ms.unasked).map((l) => [
        l,
        {
          p50: round3(ms[mode][l].p50 - ms.unasked[l].p50),
          p90: round3(ms[mode][l].p90 - ms.unasked[l].p90),
        },
      ]),
    );
  const row = {
    server: kind,
    messages,
    loadAverage: round3(load),
    ms,
    decisions: Object.fromEntries(Object.keys(ms).map((m) => [m, decided[`${kind}/${m}`]])),
    addedMs: { located: added("located"), "located-nocache": added("located-nocache") },
  };
  console.error(JSON.stringify(row));
  results.push(row);
}
console.log(JSON.stringify({ bench: "relay-inbound", results }));
