// The cost of deciding a message to another domain on its way out (issue 17, review adv16b;
// packages/guard/src/outbound.ts): one client sends chat messages one at a time to a user of
// another domain (an XEP-0114 component on the same server, routed as any other domain) and
// times each from its send to the other domain receiving it — on the same server without the
// guard module ("plain") and with it ("guarded": each message asked about, outbound='peer'),
// unlabelled and SECRET-labelled. The added cost per message is the difference of the medians
// (and p90s). The guard runs in this process. The last line of stdout is one JSON object.
//
//   flock /work/bench.lock node bench/outbound.mjs [--servers prosody,ejabberd] [--messages 300]
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

const { startServer, connectClient, sendRaw } = await import("@cordon/harness");
const { createComponent } = await import("@cordon/component");
const { createGuardService } = await import("@cordon/guard");
const { PolicyRegistry, makeLabel, makeClearance, encodeBerClearance, buildSecurityLabelXml } =
  await import("@cordon/policy");
const { MemoryStore } = await import("@cordon/store");
const { fileURLToPath } = await import("node:url");
const { dirname, resolve } = await import("node:path");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const registry = new PolicyRegistry();
const policy = registry.loadFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"));
const cls = (n) => policy.classificationByName.get(n);
const all = policy.classifications;
const raw = (c) => ({ encoding: "ber", data: Buffer.from(encodeBerClearance(c)).toString("base64") });
const SECRET_XML = buildSecurityLabelXml(makeLabel(policy, cls("SECRET"), []));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round3 = (x) => Math.round(x * 1000) / 1000;

async function run(kind, mode) {
  const domain = `${kind}-outbench.test`;
  const remote = `remote.${domain}`;
  const guarded = mode === "guarded";
  const server = await startServer(kind, {
    domain,
    users: [{ username: "alice", password: "pw" }],
    components: [
      ...(guarded ? [{ domain: `guard.${domain}`, secret: "guard" }] : []),
      { domain: remote, secret: "remote" },
    ],
    ...(guarded ? { guard: { component: `guard.${domain}`, timeoutSeconds: 2 } } : {}),
  });
  let guard;
  const arrivals = new Map();
  const component = createComponent({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: remote,
    secret: "remote",
  });
  component.onMessage((m) => {
    arrivals.get(m.attrs.id)?.();
  });
  try {
    await component.start();
    if (guarded) {
      const store = new MemoryStore();
      await store.setUserClearance(`alice@${domain}`, raw(makeClearance(policy, all, [])));
      await store.setPeerClearance(remote, "outbound", raw(makeClearance(policy, all, [])));
      guard = createGuardService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: `guard.${domain}`,
        secret: "guard",
        served: [domain],
        registry,
        store,
        defaultLabel: makeLabel(policy, cls("UNCLASSIFIED"), []),
        locations: [{ ranges: ["127.0.0.0/8"], clearance: makeClearance(policy, all, []) }],
      });
      await guard.start();
      await delay(500);
    }
    const client = await connectClient(server, "alice", "pw", "desk", { localAddress: "127.0.0.1" });
    const out = {};
    try {
      for (const label of ["unlabelled", "SECRET"]) {
        const times = [];
        for (let i = 0; i < WARMUP + messages; i++) {
          const id = `${label}-${i}`;
          const got = new Promise((resolve, reject) => {
            arrivals.set(id, resolve);
            setTimeout(() => reject(new Error(`${kind} ${mode}: ${id} never arrived`)), 10_000).unref();
          });
          const t0 = performance.now();
          await sendRaw(
            client,
            `<message to='bob@${remote}' id='${id}' type='chat'><body>m ${i}</body>${label === "SECRET" ? SECRET_XML : ""}</message>`,
          );
          await got;
          if (i >= WARMUP) times.push(performance.now() - t0);
          arrivals.delete(id);
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
    await guard?.stop();
    await server.stop();
  }
}

const { loadavg } = await import("node:os");
const results = [];
for (const kind of servers) {
  const load = loadavg()[0];
  const plain = await run(kind, "plain");
  const guarded = await run(kind, "guarded");
  const added = Object.fromEntries(
    Object.keys(plain).map((l) => [
      l,
      { p50: round3(guarded[l].p50 - plain[l].p50), p90: round3(guarded[l].p90 - plain[l].p90) },
    ]),
  );
  const row = {
    server: kind,
    messages,
    loadAverage: round3(load),
    plainMs: plain,
    guardedMs: guarded,
    addedMs: added,
  };
  console.error(JSON.stringify(row));
  results.push(row);
}
console.log(JSON.stringify({ bench: "outbound", results }));
