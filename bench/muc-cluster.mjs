// Cordon MUC on a two-node ejabberd 23.01 cluster (issue 19 goal 5): groupchat deliveries per second
// with ONE Cordon instance (attached to node 1, holding both balanced route slots: its primary and
// a spare link, packages/muc/src/cluster/slot-takeover.ts) against TWO instances (one per node,
// one slot each), side by side in one run, sharing one Redis. Clients are spread over both nodes;
// R rooms (spread over both slots by ejabberd's hash of the room JID), every client in every room,
// one sender per room keeping WINDOW messages in flight. Each Cordon instance runs in a child
// process (its CPU time from process.cpuUsage); each ejabberd node's CPU time comes from /proc.
// The clients are minimal raw XMPP clients over plain TCP, in this process.
//
//   node bench/muc-cluster.mjs [--rooms 8] [--clients 8] [--messages 300] [--runs 1]
//
// A table goes to stderr; the last line of stdout is one JSON object with every figure and the
// ratio two/one. On a machine with fewer cores than processes the ratio measures CPU sharing,
// not scale-out: the JSON gives each process's CPU per delivery so the figure can be read.
import { fork } from "node:child_process";
import { Buffer } from "node:buffer";
import { setTimeout, clearTimeout } from "node:timers";
import { performance } from "node:perf_hooks";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { BenchClient, escAttr as esc, NS_MUC } from "./lib/bench-client.mjs";

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), "..");
const POLICY_FILE = resolve(root, "deploy/quickstart/demo-policy.xml");
const DOMAIN = "cluster-bench.test";
const MUC = `rooms.${DOMAIN}`;
const SECRET = "cluster-bench-secret";
const PREFIX = "cluster-bench";
const WINDOW = 20;
const ALL_CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const ALL_CATEGORIES = ["ALPHA", "BRAVO", "GBR", "USA", "FRA"];

const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const debug = (...a) => {
  if (process.env.BENCH_DEBUG)
    process.stderr.write(`[${(performance.now() / 1000).toFixed(1)}s] ${a.join(" ")}\n`);
};

/** CPU time (µs) of a process so far, from /proc. */
function procCpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

// ───────────────────────────── child: one Cordon instance ─────────────────────────────

async function runChild() {
  const { createComponent } = await import("@cordon/component");
  const { PolicyRegistry, makeLabel, makeClearance } = await import("@cordon/policy");
  const { RedisStore, RedisMembership } = await import("@cordon/store");
  const { createMucService, DEFAULT_ROOM_CONFIG, SlotTakeover } = await import("@cordon/muc");
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(POLICY_FILE);
  const cls = (n) => policy.classifications.find((c) => c.name === n);
  const everything = makeClearance(
    policy,
    ALL_CLASSES.map(cls),
    ALL_CATEGORIES.map((n) => policy.categories.find((c) => c.name === n)),
  );
  const U = makeLabel(policy, cls("UNCLASSIFIED"), []);
  const url = process.env.BENCH_REDIS;
  const store = new RedisStore({ url, prefix: PREFIX });
  await store.ready(5000);
  const membership = new RedisMembership({ url, prefix: PREFIX, group: MUC });
  const takeover = new SlotTakeover({
    id: process.env.BENCH_ID,
    slots: 2,
    membership,
    createLink: () => {
      const component = createComponent({
        service: `xmpp://127.0.0.1:${process.env.BENCH_PORT}`,
        domain: MUC,
        secret: SECRET,
        reconnect: { enabled: false },
      });
      const service = createMucService({
        component,
        registry,
        governingPolicy: policy.id,
        store,
        settings: {
          domain: MUC,
          createRooms: "anyone",
          localDomains: [DOMAIN],
          serviceClearance: everything,
          defaultRoomLabel: U,
          defaultRoomClearance: everything,
          defaultMessageLabel: U,
          namedLabels: [{ name: "UNCLASSIFIED", label: U }],
          roomDefaults: { ...DEFAULT_ROOM_CONFIG },
          occupantIdSecret: "cluster-bench-occupant",
          clearanceRefreshMs: 600_000,
          capsTimeoutMs: 2000,
        },
      });
      return { service, component };
    },
  });
  await takeover.start();
  process.on("message", async (msg) => {
    if (msg.type === "cpu") process.send({ type: "cpu", usage: process.cpuUsage() });
    else if (msg.type === "status")
      process.send({
        type: "status",
        services: takeover.services.length,
        spares: takeover.spareCount,
        occupied: takeover.services.map((s) => [...s.rooms.values()].filter((r) => r.size > 0).length),
      });
    else if (msg.type === "stop") {
      await takeover.stop().catch(() => undefined);
      await membership.close();
      await store.close().catch(() => undefined);
      process.exit(0);
    }
  });
  process.on("disconnect", () => process.exit(1));
  process.send({ type: "ready" });
}

class Instance {
  constructor(id, node, redisUrl) {
    this.id = id;
    this.child = fork(here, ["--child"], {
      env: { ...process.env, BENCH_ID: id, BENCH_PORT: String(node.componentPort), BENCH_REDIS: redisUrl },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((ok, fail) => {
      this.child.once("exit", (code) => fail(new Error(`instance ${id} exited (${code})`)));
      this.child.on("message", (m) => m.type === "ready" && ok());
    });
  }
  ask(type) {
    return new Promise((ok) => {
      const on = (m) => {
        if (m.type !== type) return;
        this.child.off("message", on);
        ok(m);
      };
      this.child.on("message", on);
      this.child.send({ type });
    });
  }
  async cpu() {
    const { usage } = await this.ask("cpu");
    return usage.user + usage.system;
  }
  async stop() {
    const exited = new Promise((ok) => this.child.once("exit", ok));
    this.child.send({ type: "stop" });
    await Promise.race([exited, delay(5000)]);
    this.child.kill("SIGKILL");
  }
}

// ───────────────────────────── parent: raw clients ─────────────────────────────

/** A bench client (bench/lib/bench-client.mjs), not label-aware, counting its bench messages. */
class RawClient extends BenchClient {
  constructor(node, user) {
    super({ port: node.c2sPort, domain: DOMAIN, user });
    this.node = node;
    this.counting = null;
  }
  intercept(text) {
    const counting = this.counting;
    if (!counting || !text.startsWith("<message")) return false;
    const at = text.indexOf(`#BM${counting.tag}.`);
    if (at < 0) return false;
    const from = at + counting.tag.length + 4;
    counting.onDelivery(Number(text.slice(from, text.indexOf(".", from))));
    return true;
  }
}

// ───────────────────────────── parent: the run ─────────────────────────────

function parseArgs(argv) {
  const o = { rooms: 8, clients: 8, messages: 300, runs: 1 };
  for (let i = 0; i < argv.length; i += 2) o[argv[i].replace(/^--/, "")] = Number(argv[i + 1]);
  return o;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { startEjabberdCluster, startRedis } = await import("@cordon/harness");
  const { RedisStore } = await import("@cordon/store");
  const { PolicyRegistry, makeClearance, encodeBerClearance } = await import("@cordon/policy");
  const users = Array.from({ length: opts.clients }, (_, i) => `c${i}`);
  const redis = await startRedis();
  const cluster = await startEjabberdCluster({
    domain: DOMAIN,
    components: [{ domain: MUC, secret: SECRET }],
    componentBalancing: { [MUC]: "bare_destination" },
    users: users.map((u) => ({ username: u, password: `pw-${u}` })),
  });
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(POLICY_FILE);
  const everything = makeClearance(
    policy,
    ALL_CLASSES.map((n) => policy.classifications.find((c) => c.name === n)),
    ALL_CATEGORIES.map((n) => policy.categories.find((c) => c.name === n)),
  );
  const seed = new RedisStore({ url: redis.url, prefix: PREFIX });
  await seed.ready(5000);
  for (const u of users)
    await seed.setUserClearance(`${u}@${DOMAIN}`, {
      encoding: "ber",
      data: Buffer.from(encodeBerClearance(everything)).toString("base64"),
    });
  await seed.close();
  // Clients alternate between the nodes.
  const clients = users.map((u, i) => new RawClient(cluster.nodes[i % 2], u));
  for (const c of clients) await c.connect();
  const results = [];
  try {
    for (let run = 0; run < opts.runs; run++)
      for (const shape of ["one", "two"])
        results.push(await phase(shape, run, opts, cluster, redis, clients));
  } finally {
    for (const c of clients) c.close();
    await cluster.stop();
    await redis.stop();
  }
  const best = (shape) => Math.max(...results.filter((r) => r.shape === shape).map((r) => r.perSecond));
  const summary = {
    bench: "muc-cluster",
    server: "ejabberd 23.01, 2 nodes (join_cluster)",
    cpus: cpus().length,
    rooms: opts.rooms,
    clients: opts.clients,
    messagesPerRoom: opts.messages,
    results,
    ratioTwoOverOne: Number((best("two") / best("one")).toFixed(2)),
  };
  for (const r of results)
    process.stderr.write(
      `${r.shape.padEnd(4)} run ${r.run}: ${r.perSecond} deliveries/s, cordon µs/delivery ${JSON.stringify(r.cordonCpuUsPerDelivery)}, ejabberd µs/delivery ${JSON.stringify(r.ejabberdCpuUsPerDelivery)}, rooms per instance ${JSON.stringify(r.roomsPerInstance)}\n`,
    );
  process.stderr.write(`two/one: ${summary.ratioTwoOverOne}\n`);
  process.stdout.write(JSON.stringify(summary) + "\n");
}

async function phase(shape, run, opts, cluster, redis, clients) {
  const instances =
    shape === "one"
      ? [new Instance("a", cluster.nodes[0], redis.url)]
      : [new Instance("a", cluster.nodes[0], redis.url), new Instance("b", cluster.nodes[1], redis.url)];
  for (const i of instances) await i.ready;
  // One instance: wait for its spare (the second slot); two: for both links and no spare.
  for (let t = 0; ; t++) {
    const s = await Promise.all(instances.map((i) => i.ask("status")));
    const services = s.reduce((n, x) => n + x.services, 0);
    if (services === 2 && (shape === "one" || s.every((x) => x.spares === 0))) break;
    if (t > 300) throw new Error(`${shape}: the instances did not settle: ${JSON.stringify(s)}`);
    await delay(100);
  }
  await delay(1500); // a newcomer's slotless primary redials within a round (slot-takeover.ts)
  const tag = `${shape}${run}`;
  const rooms = Array.from({ length: opts.rooms }, (_, k) => `${tag}-r${k}@${MUC}`);
  for (const room of rooms) {
    // XEP-0045 §10.1.2: the creator unlocks the room with an instant (empty) configuration.
    const [owner, ...rest] = clients;
    await owner.join(room, owner.user);
    const id = `cfg-${room}`;
    const configured = owner.waitFor((st) => st.name === "iq" && st.attrs.id === id);
    owner.socket.write(
      `<iq type='set' id='${esc(id)}' to='${esc(room)}'><query xmlns='${NS_MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
    );
    if ((await configured).attrs.type !== "result") throw new Error(`${room}: configuration refused`);
    for (const c of rest) await c.join(room, c.user);
  }
  const status = await Promise.all(instances.map((i) => i.ask("status")));
  const roomsPerInstance = Object.fromEntries(instances.map((inst, k) => [inst.id, status[k].occupied]));
  debug(shape, "joined", JSON.stringify(roomsPerInstance));
  const total = opts.rooms * opts.messages * clients.length;
  let got = 0;
  const acked = rooms.map(() => 0);
  let finish;
  const done = new Promise((ok) => (finish = ok));
  const senders = rooms.map((_, k) => clients[k % clients.length]);
  const wake = new Map();
  for (const c of clients)
    c.counting = {
      tag,
      onDelivery: (k) => {
        if (senders[k] === c) {
          acked[k]++;
          wake.get(k)?.();
        }
        if (++got === total) finish();
      },
    };
  const cpu0 = await Promise.all(instances.map((i) => i.cpu()));
  const ej0 = cluster.nodes.map((n) => procCpu(n.pid));
  const t0 = performance.now();
  await Promise.all(
    rooms.map(async (room, k) => {
      const sender = senders[k];
      for (let i = 0; i < opts.messages; i++) {
        while (i - acked[k] >= WINDOW) await new Promise((ok) => wake.set(k, ok));
        sender.socket.write(
          `<message to='${room}' type='groupchat'><body>#BM${tag}.${k}.${i} the quick brown fox</body></message>`,
        );
      }
    }),
  );
  const timeout = setTimeout(() => finish(), 120_000);
  await done;
  clearTimeout(timeout);
  const ms = performance.now() - t0;
  const cpu1 = await Promise.all(instances.map((i) => i.cpu()));
  const ej1 = cluster.nodes.map((n) => procCpu(n.pid));
  for (const c of clients) c.counting = null;
  for (const room of rooms)
    for (const c of clients) c.write(`<presence type='unavailable' to='${esc(`${room}/${c.user}`)}'/>`);
  for (const i of instances) await i.stop();
  await delay(500);
  return {
    shape,
    run,
    deliveries: got,
    expected: total,
    seconds: Number((ms / 1000).toFixed(2)),
    perSecond: Math.round(got / (ms / 1000)),
    roomsPerInstance,
    cordonCpuUsPerDelivery: Object.fromEntries(
      instances.map((inst, k) => [inst.id, Number(((cpu1[k] - cpu0[k]) / got).toFixed(2))]),
    ),
    ejabberdCpuUsPerDelivery: Object.fromEntries(
      cluster.nodeNames.map((n, k) => [n.split("@")[0], Number(((ej1[k] - ej0[k]) / got).toFixed(2))]),
    ),
  };
}

if (process.argv[2] === "--child") await runChild();
else await main();
