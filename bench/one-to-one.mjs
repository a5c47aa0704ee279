// One-to-one throughput and latency with Cordon's central check (issue 17): the same server,
// in the same run, without the module ("plain") and with it (the guard in its own process),
// for unlabelled and for SECRET-labelled chat messages. Reports per server: messages/s delivered
// (the senders keep a window of messages in flight), the ratio to plain, end-to-end latency
// p50/p99 at a fixed rate (the added latency is the difference to plain), the guard's CPU µs per
// decision and the server's CPU µs per message (both from /proc). On demand (not part of npm test):
//
//   node bench/one-to-one.mjs [--servers prosody,ejabberd] [--messages 4000] [--rate 2000]
//                             [--seconds 3] [--pairs 4] [--window 50]
//
// Goals (issue 17): throughput >= 0.8x plain, p99 added latency <= 1 ms at 2,000 messages/s.
// The clients run in this process (@xmpp/client): the figures compare modes side by side on one
// machine, they are not absolute capacities. The last line of stdout is one JSON object.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), "..");
const POLICY = resolve(root, "deploy/quickstart/demo-policy.xml");
const SECRET = "bench-guard";
const CLOCK_TICK_US = 10_000;

function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_US;
  } catch {
    return null;
  }
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3) : null;
};

// ── child: the guard in its own process ──
async function runGuard() {
  const { createGuardService } = await import("@cordon/guard");
  const { PolicyRegistry, makeLabel, makeClearance, encodeBerClearance } = await import("@cordon/policy");
  const { MemoryStore } = await import("@cordon/store");
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(POLICY);
  const store = new MemoryStore();
  const all = makeClearance(policy, policy.classifications, []);
  const raw = { encoding: "ber", data: Buffer.from(encodeBerClearance(all)).toString("base64") };
  const domain = process.env.BENCH_DOMAIN;
  for (const user of JSON.parse(process.env.BENCH_USERS))
    await store.setUserClearance(`${user}@${domain}`, raw);
  let decisions = 0;
  const guard = createGuardService({
    service: process.env.BENCH_SERVICE,
    domain: `guard.${domain}`,
    secret: SECRET,
    served: [domain],
    registry,
    store,
    defaultLabel: makeLabel(policy, policy.classificationByName.get("UNCLASSIFIED"), []),
    onDecision: () => void decisions++,
  });
  await guard.start();
  process.send({ ready: true });
  process.on("message", (m) => {
    if (m === "count") process.send({ decisions });
    if (m === "stop") void guard.stop().then(() => process.exit(0));
  });
}

// ── parent ──
function parseArgs(argv) {
  const o = {
    servers: ["prosody", "ejabberd"],
    messages: 4000,
    rate: 2000,
    seconds: 3,
    pairs: 4,
    window: 50,
    modes: ["plain", "unlabelled", "labelled"],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--servers") o.servers = v.split(",");
    else if (k === "--modes") o.modes = v.split(",");
    else if (k === "--profile") o.profile = v;
    else if (k.startsWith("--") && k.slice(2) in o) o[k.slice(2)] = Number(v);
    else throw new Error(`unknown argument ${k}`);
  }
  return o;
}

async function runMode(kind, mode, opts, labelXml) {
  const { startServer, connectClient } = await import("@cordon/harness");
  const domain = `${kind}-o2o.test`;
  const users = [];
  for (let i = 0; i < opts.pairs; i++) users.push(`s${i}`, `r${i}`);
  const guarded = mode !== "plain";
  const server = await startServer(kind, {
    domain,
    components: guarded ? [{ domain: `guard.${domain}`, secret: SECRET }] : [],
    ...(guarded ? { guard: { component: `guard.${domain}`, timeoutSeconds: 2 } } : {}),
    users: users.map((u) => ({ username: u, password: "pw" })),
    ...(guarded && kind === "prosody" && process.env.BENCH_PROSODY_MODULES
      ? { extraModules: process.env.BENCH_PROSODY_MODULES.split(",") }
      : {}),
  });
  let child;
  try {
    if (guarded) {
      child = fork(here, ["--child"], {
        // --profile DIR: a V8 CPU profile of the guard process per mode (node --cpu-prof).
        ...(opts.profile ? { execArgv: ["--cpu-prof", `--cpu-prof-dir=${opts.profile}`] } : {}),
        env: {
          ...process.env,
          BENCH_DOMAIN: domain,
          BENCH_SERVICE: `xmpp://127.0.0.1:${server.componentPort}`,
          BENCH_USERS: JSON.stringify(users),
        },
      });
      await new Promise((r, j) => {
        child.once("message", r);
        child.once("exit", () => j(new Error("guard exited")));
      });
    }
    const clients = {};
    for (const u of users) clients[u] = await connectClient(server, u, "pw");
    const label = mode === "labelled" ? labelXml : "";
    const sent = new Map();
    const latencies = [];
    let received = 0;
    let errors = 0;
    for (let i = 0; i < opts.pairs; i++)
      clients[`r${i}`].xmpp.on("stanza", (el) => {
        if (el.name !== "message") return;
        if (el.attrs.type === "error") return void errors++;
        const at = sent.get(el.attrs.id);
        if (at !== undefined) {
          latencies.push(performance.now() - at);
          sent.delete(el.attrs.id);
          received++;
        }
      });
    for (let i = 0; i < opts.pairs; i++)
      clients[`s${i}`].xmpp.on("stanza", (el) => {
        if (el.name === "message" && el.attrs.type === "error") errors++;
      });
    const write = (i, id) => {
      sent.set(id, performance.now());
      return clients[`s${i}`].xmpp.write(
        `<message to='r${i}@${domain}' id='${id}' type='chat'><body>bench ${id}</body>${label}</message>`,
      );
    };
    // Warm-up, then throughput with a window per pair.
    for (let n = 0; n < 200; n++) await write(n % opts.pairs, `w${n}`);
    await delay(1000);
    received = 0;
    latencies.length = 0;
    const cpuServer0 = cpuOf(server.pid);
    const cpuGuard0 = child ? cpuOf(child.pid) : null;
    const t0 = performance.now();
    let next = 0;
    // A refused message (an error back to its sender) is done too: it must not hold the window.
    const errors0 = errors;
    const done = () => received + errors - errors0;
    while (done() < opts.messages && performance.now() - t0 < 120_000) {
      while (next < opts.messages && next - done() < opts.window * opts.pairs) {
        await write(next % opts.pairs, `t${next}`);
        next++;
      }
      await delay(1);
    }
    const seconds = (performance.now() - t0) / 1000;
    const throughput = received / seconds;
    const serverCpuUs = (cpuOf(server.pid) - cpuServer0) / Math.max(1, received);
    const guardCpuUs = child ? (cpuOf(child.pid) - cpuGuard0) / Math.max(1, received) : null;
    // Latency at a fixed rate.
    await delay(500);
    latencies.length = 0;
    received = 0;
    const total = opts.rate * opts.seconds;
    const start = performance.now();
    for (let n = 0; n < total; n++) {
      const due = start + (n * 1000) / opts.rate;
      const wait = due - performance.now();
      if (wait > 1) await delay(wait);
      void write(n % opts.pairs, `l${n}`);
    }
    const until = performance.now() + 5000;
    while (received < total && performance.now() < until) await delay(10);
    const result = {
      throughput: +throughput.toFixed(0),
      serverCpuUsPerMessage: +serverCpuUs.toFixed(1),
      guardCpuUsPerDecision: guardCpuUs === null ? null : +guardCpuUs.toFixed(1),
      latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), delivered: received, of: total },
      errors,
    };
    for (const c of Object.values(clients)) await c.stop().catch(() => undefined);
    return result;
  } finally {
    if (child) {
      child.send("stop");
      await Promise.race([new Promise((r) => child.once("exit", r)), delay(3000)]);
      child.kill();
    }
    await server.stop();
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { PolicyRegistry, makeLabel, buildSecurityLabelXml } = await import("@cordon/policy");
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(POLICY);
  const labelXml = buildSecurityLabelXml(makeLabel(policy, policy.classificationByName.get("SECRET"), []));
  const out = { options: opts, servers: {} };
  for (const kind of opts.servers) {
    const modes = {};
    for (const mode of opts.modes) {
      modes[mode] = await runMode(kind, mode, opts, labelXml);
      process.stderr.write(`${kind} ${mode}: ${JSON.stringify(modes[mode])}\n`);
    }
    const ratio = (m) =>
      modes[m] && modes.plain ? +(modes[m].throughput / modes.plain.throughput).toFixed(2) : null;
    const added = (m) =>
      !modes[m] || !modes.plain || modes[m].latencyMs.p99 === null
        ? null
        : +(modes[m].latencyMs.p99 - modes.plain.latencyMs.p99).toFixed(3);
    out.servers[kind] = {
      ...modes,
      throughputRatio: { unlabelled: ratio("unlabelled"), labelled: ratio("labelled") },
      addedP99Ms: { unlabelled: added("unlabelled"), labelled: added("labelled") },
    };
  }
  console.log(JSON.stringify(out));
}

if (process.argv.includes("--child")) await runGuard();
else {
  await main();
  process.exit(0);
}
