// MUC memory and scale on one machine (issue 19, goal 3): Cordon's MUC component in a child process
// (run with --expose-gc, so its memory is read after a forced collection and reported over IPC),
// raw plain-TCP clients here, one real XMPP server per run (Prosody and/or ejabberd).
//
//   node bench/muc-scale.mjs [--servers prosody,ejabberd] [--rooms 1000] [--per-room 10]
//                            [--big 1000] [--sessions 1000] [--messages 40] [--history 200]
//
// `prosody:incremental` in --servers runs Prosody with its own default collector (incremental,
// pause 105 %) instead of the generational one deploy/README.md recommends (the harness default),
// so both can be compared in one run (issue 19: the 1,000th join is mostly Prosody's GC).
//
// Phases, each measured from the clients (latencies) and in the component child (memory, CPU):
//   0. baseline: the component started, every session connected and through one join and leave of
//      a room of its own (so per-user state — the clearance cache — is not counted per room);
//   A. `--rooms` idle rooms: each created by one session (XEP-0045 §10.1.1 join, §10.1.3 owner form
//      with muc#roomconfig_persistentroom=1 — an empty room must be persistent to stay), then left.
//      Persistent rooms are written to the store; the child's in-memory store records are then
//      dropped (live rooms stay: room-sync keeps a live room whose record is deleted) so that the
//      figure per idle room is the MUC's own, not the in-memory store's (Redis holds them in a
//      deployment). Both figures are reported.
//   B. `--per-room` occupants in each of those rooms (room r gets sessions (r·P + k) mod S, so each
//      of S sessions is in R·P/S rooms; joins ≤ 64 in flight): joins/s, bytes per occupant.
//   C. one room with `--big` occupants (sessions 0..big-1; the
//      1st, 10th, 100th and last join alone in a quiet room; the others 25 at a time): join latency = presence sent → own
//      self-presence (status 110) received, with the component's and the server's CPU for that
//      join; bytes per occupant; then `--messages` groupchat messages from one occupant to all of
//      them (deliveries/s, 4,000 copies in flight at most).
//   D. history replay: a room holding `--history` messages; a joiner asks for all of them
//      (`<history maxstanzas=H/>`): presence sent → subject received (the subject is last,
//      XEP-0045 §7.2.16), against the same join with maxstanzas=0; median of 3.
//
// Sessions are S distinct accounts (s0..), one resource each, so every occupant is a distinct real
// JID (and user) as in a deployment; with R·P > S a session occupies several rooms (at most 100:
// the per-user room quota). Clients announce XEP-0115 caps (a real client does), so the component
// asks disco#info once per client kind, not at every join. Every account is cleared for the room
// label (in-memory store). Messages are unlabelled (the room's default label). A table goes to
// stderr; the last stdout line is one JSON object.
import { fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { setTimeout, clearTimeout } from "node:timers";
import { BenchClient, NS_DISCO_INFO, NS_MUC } from "./lib/bench-client.mjs";

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), "..");
const POLICY_FILE = resolve(root, "deploy/quickstart/demo-policy.xml");
const DOMAIN = "bench.test";
const MUC = `rooms.${DOMAIN}`;
const SECRET = "bench-muc-scale-secret";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
const NS_SEC_LABEL = "urn:xmpp:sec-label:0";
const NS_CAPS = "http://jabber.org/protocol/caps";
const CAPS_NODE = "https://cordon.invalid/bench";
const FILLER = "the quick brown fox jumps over the lazy dog";
const WINDOW_DELIVERIES = 4000;
const ALL_CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const ALL_CATEGORIES = ["ALPHA", "BRAVO", "GBR", "USA", "FRA"];
const username = (i) => `s${i}`;

const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const debug = (...args) => {
  if (process.env.BENCH_DEBUG)
    process.stderr.write(`[${(performance.now() / 1000).toFixed(1)}s] ${args.join(" ")}\n`);
};
const CLOCK_TICK_US = 10_000;
/** The server process's resident memory, MiB (the collector setting trades it for CPU). */
function serverRssMiB(server) {
  try {
    const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1];
    return kib === undefined ? null : Number((Number(kib) / 1024).toFixed(1));
  } catch {
    return null;
  }
}
function serverCpu(server) {
  try {
    const stat = readFileSync(`/proc/${server.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
  } catch {
    return null;
  }
}

// ───────────────────────────── child: the component ─────────────────────────────

async function runChild() {
  const { createComponent } = await import("@cordon/component");
  const { PolicyRegistry, makeLabel, makeClearance, encodeBerClearance } = await import("@cordon/policy");
  const { MemoryStore } = await import("@cordon/store");
  const { createMucService, DEFAULT_ROOM_CONFIG } = await import("@cordon/muc");
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(POLICY_FILE);
  const cls = (n) => policy.classifications.find((c) => c.name === n);
  const cat = (n) => policy.categories.find((c) => c.name === n);
  const full = makeClearance(policy, ALL_CLASSES.map(cls), ALL_CATEGORIES.map(cat));
  const unclassified = makeLabel(policy, cls("UNCLASSIFIED"), []);
  const store = new MemoryStore();
  const sessions = Number(process.env.BENCH_SESSIONS);
  const data = Buffer.from(encodeBerClearance(full)).toString("base64");
  for (let i = 0; i < sessions; i++)
    await store.setUserClearance(`${username(i)}@${DOMAIN}`, { encoding: "ber", data });
  const muc = createMucService({
    component: createComponent({ service: process.env.BENCH_SERVICE, domain: MUC, secret: SECRET }),
    registry,
    governingPolicy: policy.id,
    store,
    settings: {
      domain: MUC,
      createRooms: "anyone",
      localDomains: [DOMAIN],
      serviceClearance: full,
      defaultRoomLabel: unclassified,
      defaultRoomClearance: full,
      defaultMessageLabel: unclassified,
      namedLabels: [{ name: "UNCLASSIFIED", label: unclassified }],
      roomDefaults: { ...DEFAULT_ROOM_CONFIG, historyLength: Number(process.env.BENCH_HISTORY) },
      occupantIdSecret: "bench-occupant-secret",
      clearanceRefreshMs: 3_600_000,
      capsTimeoutMs: 5000,
    },
  });
  await muc.start();
  const memory = async (label) => {
    // Several collections: finalizers and weak references settle over more than one.
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await delay(20);
    }
    if (process.env.BENCH_SNAPSHOT_DIR && label) {
      const { writeHeapSnapshot } = await import("node:v8");
      writeHeapSnapshot(`${process.env.BENCH_SNAPSHOT_DIR}/${label}.heapsnapshot`);
      globalThis.gc();
    }
    const m = process.memoryUsage();
    let occupants = 0;
    for (const room of muc.rooms.values()) occupants += room.size;
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      rooms: muc.rooms.size,
      occupants,
      buffers: Object.fromEntries(muc.memory().map((b) => [b.buffer, b.bytes])),
    };
  };
  process.on("message", async (msg) => {
    let reply;
    if (msg.type === "cpu") reply = process.cpuUsage();
    else if (msg.type === "memory") reply = await memory(msg.label);
    else if (msg.type === "store-record-bytes") {
      // What the in-memory store's room records cost: the same records put into a second store,
      // measured. (Deleting them is no way to leave them out: a persistent room whose record is
      // deleted elsewhere is destroyed, XEP-0045 §10.9, packages/muc/src/service/room-sync.ts.)
      const before = await memory();
      const copy = new MemoryStore();
      for (const jid of await store.listRooms(MUC)) await copy.putRoom(await store.getRoom(jid));
      const after = await memory();
      reply = {
        records: (await copy.listRooms(MUC)).length,
        bytes: after.heapUsed + after.external - before.heapUsed - before.external,
      };
      await copy.close();
    } else if (msg.type === "stop") {
      await Promise.race([muc.stop().catch(() => undefined), delay(2000)]);
      process.exit(0);
    }
    process.send({ type: "reply", id: msg.id, value: reply });
  });
  process.on("disconnect", () => process.exit(1));
  process.send({ type: "ready" });
}

class ComponentChild {
  constructor(server, sessions, history) {
    this.pending = new Map();
    this.nextId = 0;
    this.exited = false;
    this.child = fork(here, ["--child"], {
      env: {
        ...process.env,
        BENCH_SERVICE: `xmpp://127.0.0.1:${server.componentPort}`,
        BENCH_SESSIONS: String(sessions),
        BENCH_HISTORY: String(history),
      },
      execArgv: ["--expose-gc"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.once("exit", (code) => {
      this.exited = true;
      for (const settle of this.pending.values()) settle(null);
      this.pending.clear();
      if (code !== 0) process.stderr.write(`component exited with code ${code}\n`);
    });
    this.ready = new Promise((ok, fail) => {
      this.child.once("exit", (code) => fail(new Error(`component exited with ${code} before it was ready`)));
      this.child.on("message", (msg) => {
        if (msg.type === "ready") ok();
        else if (msg.type === "reply") {
          this.pending.get(msg.id)?.(msg.value);
          this.pending.delete(msg.id);
        }
      });
    });
  }
  ask(type, label) {
    if (this.exited) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((r) => {
      this.pending.set(id, r);
      this.child.send({ type, id, label });
    });
  }
  async cpu() {
    const u = await this.ask("cpu");
    return u ? u.user + u.system : null;
  }
  /** The child's memory after a forced GC (and a heap snapshot named `label` with BENCH_SNAPSHOT_DIR). */
  memory(label) {
    return this.ask("memory", label);
  }
  stop() {
    if (this.exited) return Promise.resolve();
    return new Promise((r) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        r();
      }, 10_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        r();
      });
      this.child.send({ type: "stop" });
    });
  }
}

// ───────────────────────────── parent: raw clients ─────────────────────────────

/** XEP-0115 §5.1 for our one identity and features (no forms). */
function capsVer(features) {
  const s = `client/pc//bench<${[...features]
    .sort()
    .map((f) => `${f}<`)
    .join("")}`;
  return createHash("sha1").update(s, "utf8").digest("base64");
}
const FEATURES = {
  aware: [NS_DISCO_INFO, NS_MUC, NS_CAPS, NS_SEC_LABEL],
  unaware: [NS_DISCO_INFO, NS_MUC, NS_CAPS],
};
const CAPS = Object.fromEntries(
  Object.entries(FEATURES).map(([k, f]) => [
    k,
    `<c xmlns='${NS_CAPS}' hash='sha-1' node='${CAPS_NODE}' ver='${capsVer(f)}'/>`,
  ]),
);

/**
 * A bench client (bench/lib/bench-client.mjs) announcing XEP-0115 caps of one of two kinds (label-
 * aware or not). Presences from rooms are only counted (per room), messages carrying the bench
 * marker only counted, unless something waits for them.
 */
class RawClient extends BenchClient {
  constructor(server, index) {
    const kind = index % 2 === 0 ? "aware" : "unaware";
    super({
      port: server.c2sPort,
      domain: DOMAIN,
      user: username(index),
      resource: "r",
      features: FEATURES[kind],
      presence: CAPS[kind],
      waitMs: 120_000,
    });
    this.server = server;
    this.index = index;
    this.kind = kind;
    this.presences = new Map(); // room → available presences received
    this.counting = null;
  }

  intercept(text) {
    const counting = this.counting;
    if (counting === null || !text.startsWith("<message") || !text.includes("#BM")) return false;
    counting.lastAt = performance.now();
    if (--counting.remaining === 0) counting.done();
    counting.onDelivery?.();
    return true;
  }

  observe(stanza) {
    if (stanza.name !== "presence" || stanza.attrs.type !== undefined || !stanza.attrs.from) return;
    const from = stanza.attrs.from;
    const slash = from.indexOf("/");
    if (slash <= 0) return;
    const room = from.slice(0, slash);
    this.presences.set(room, (this.presences.get(room) ?? 0) + 1);
  }

  /** Joins room/nick; resolves with { presence, t0, selfMs, subject } once the self-presence (110) arrives. */
  async join(room, nick, maxstanzas = 0) {
    const subject = this.waitFor(
      (s) => s.name === "message" && s.attrs.from === room && s.text.includes("<subject"),
    );
    subject.catch(() => undefined);
    const t0 = performance.now();
    const presence = await super.join(room, nick, maxstanzas);
    const selfAt = performance.now();
    return { presence, t0, selfMs: selfAt - t0, subject: subject.then(() => performance.now() - t0) };
  }
}

/** Runs `tasks` (functions returning promises) with at most `limit` in flight. */
async function pool(tasks, limit) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) await tasks[next++]();
  });
  await Promise.all(workers);
}

/** Waits until `cond()` holds (polling), or throws after `ms`. */
async function until(cond, what, ms = 300_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

const ownerForm = (persistent) =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${persistent ? "<field var='muc#roomconfig_persistentroom'><value>1</value></field>" : ""}</x>`;

// ───────────────────────────── parent: the measurement ─────────────────────────────

function parseArgs(argv) {
  const opts = {
    servers: ["prosody", "ejabberd"],
    rooms: 1000,
    perRoom: 10,
    big: 1000,
    sessions: 1000,
    messages: 40,
    history: 200,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value`);
    i++;
    switch (argv[i - 1]) {
      case "--servers":
        opts.servers = v.split(",").filter(Boolean);
        break;
      case "--rooms":
        opts.rooms = Number(v);
        break;
      case "--per-room":
        opts.perRoom = Number(v);
        break;
      case "--big":
        opts.big = Number(v);
        break;
      case "--sessions":
        opts.sessions = Number(v);
        break;
      case "--messages":
        opts.messages = Number(v);
        break;
      case "--history":
        opts.history = Number(v);
        break;
      default:
        throw new Error(`unknown argument ${argv[i - 1]}`);
    }
  }
  opts.sessions = Math.max(opts.sessions, opts.big, opts.perRoom, 2);
  if ((opts.rooms * opts.perRoom) / opts.sessions > 100)
    throw new Error("more than 100 rooms per session: the per-user room quota would refuse joins");
  return opts;
}

const KiB = (bytes) => Math.round((bytes / 1024) * 100) / 100;
const heap = (m) => m.heapUsed + m.external;

async function runServer(spec, opts) {
  const { startServer } = await import("@cordon/harness");
  const [kind, gc] = spec.split(":");
  const S = opts.sessions;
  const server = await startServer(kind, {
    ...(gc ? { prosodyGc: gc } : {}),
    domain: DOMAIN,
    components: [{ domain: MUC, secret: SECRET }],
    users: Array.from({ length: S }, (_, i) => ({ username: username(i), password: `pw-${username(i)}` })),
  });
  const child = new ComponentChild(server, S, opts.history);
  const clients = [];
  const out = { sessions: S };
  try {
    await child.ready;
    for (let i = 0; i < S; i += 50) {
      const batch = Array.from({ length: Math.min(50, S - i) }, (_, j) => new RawClient(server, i + j));
      await Promise.all(batch.map((c) => c.connect()));
      clients.push(...batch);
    }
    debug(kind, "connected", S);
    await delay(500);
    const mConnected = await child.memory("connected");
    // Per-user state (the clearance read and cached at a first join, the client kind's caps) is
    // made here, once per account, so that the figures below are per room and per occupant: each
    // session enters a room of its own and leaves (the empty room closes).
    await pool(
      clients.map((c, s) => async () => {
        await c.join(`w${s}@${MUC}`, "w");
        await c.leave(`w${s}@${MUC}`, "w");
      }),
      32,
    );
    await delay(500);
    const m0 = await child.memory("baseline");
    out.baseline = {
      rssMiB: Number((m0.rss / 2 ** 20).toFixed(1)),
      heapMiB: Number((heap(m0) / 2 ** 20).toFixed(1)),
      bytesPerUser: Math.round((heap(m0) - heap(mConnected)) / S),
    };

    // ── A: idle rooms ──
    const R = opts.rooms;
    const roomJid = (r) => `a${r}@${MUC}`;
    let t0 = performance.now();
    await pool(
      Array.from({ length: R }, (_, r) => async () => {
        const c = clients[r % S];
        await c.join(roomJid(r), "owner");
        await c.iq(
          `<iq type='set' id='cfg${r}' to='${roomJid(r)}'><query xmlns='${NS_MUC_OWNER}'>${ownerForm(true)}</query></iq>`,
          `cfg${r}`,
        );
        await c.leave(roomJid(r), "owner");
      }),
      32,
    );
    const createSeconds = (performance.now() - t0) / 1000;
    await delay(300);
    for (const c of clients) c.presences.clear();
    const mA = await child.memory("rooms-with-store");
    if (mA.rooms < R) throw new Error(`only ${mA.rooms} of ${R} rooms live`);
    const records = await child.ask("store-record-bytes");
    if (records.records < R) throw new Error(`only ${records.records} room records in the store`);
    out.idleRooms = {
      rooms: R,
      roomsPerSecond: Math.round(R / createSeconds),
      bytesPerRoom: Math.round((heap(mA) - heap(m0) - records.bytes) / R),
      bytesPerStoreRecord: Math.round(records.bytes / R),
      bytesPerRoomWithStoreRecord: Math.round((heap(mA) - heap(m0)) / R),
      rssBytesPerRoom: Math.round((mA.rss - m0.rss) / R),
    };
    debug(kind, "idle rooms", JSON.stringify(out.idleRooms));

    // ── B: P occupants in each room ──
    const P = opts.perRoom;
    const perSession = Array.from({ length: S }, () => []);
    for (let r = 0; r < R; r++) for (let k = 0; k < P; k++) perSession[(r * P + k) % S].push([r, k]);
    t0 = performance.now();
    const tasks = [];
    for (let s = 0; s < S; s++) {
      tasks.push(async () => {
        for (const [r, k] of perSession[s]) await clients[s].join(roomJid(r), `n${k}`);
      });
    }
    await pool(tasks, 64);
    const joinSeconds = (performance.now() - t0) / 1000;
    // Every occupant sees every other: P presences per room for each of its sessions.
    await until(
      () => clients.every((c, s) => perSession[s].every(([r]) => (c.presences.get(roomJid(r)) ?? 0) >= P)),
      "presences in the idle rooms",
    );
    await delay(500);
    const mB = await child.memory("occupied");
    out.occupiedRooms = {
      occupants: R * P,
      joinsPerSecond: Math.round((R * P) / joinSeconds),
      bytesPerOccupant: Math.round((heap(mB) - heap(mA)) / (R * P)),
      presencePayloadBytesPerOccupant: Math.round((mB.buffers.presence ?? 0) / (R * P)),
      rssBytesPerOccupant: Math.round((mB.rss - mA.rss) / (R * P)),
    };
    debug(kind, "occupied", JSON.stringify(out.occupiedRooms));

    // ── C: one room with `big` occupants ──
    const N = opts.big;
    const big = `big@${MUC}`;
    const measured = new Set([1, 10, 100, N]);
    const joins = {};
    const measureJoin = async (i) => {
      // A quiet room: the fan-out of the previous joins has drained. A joiner gets its own
      // presence before its presence goes to the others (src/service/presence.ts), so the previous
      // batch's joins resolving says nothing about their ~25 × i copies to the others: wait until
      // every occupant has seen all i. (Before, a 300 ms pause only: the 1,000th join then paid for
      // the 25 joins before it, ~24,000 presences — 1.5-5 s of server CPU.)
      await until(
        () => clients.slice(0, i).every((c) => (c.presences.get(big) ?? 0) >= i),
        "the previous joins' fan-out",
      );
      await delay(300);
      const cpu0 = await child.cpu();
      const srv0 = serverCpu(server);
      const bench0 = process.cpuUsage();
      const j = await clients[i].join(big, `m${i}`);
      // Let the joiner's presence reach everyone before reading the CPU of the whole join.
      await until(
        () => clients.slice(0, i + 1).every((c) => (c.presences.get(big) ?? 0) >= i + 1),
        "the join's fan-out",
      );
      const srv1 = serverCpu(server);
      const bench1 = process.cpuUsage(bench0);
      const cpu1 = await child.cpu();
      return {
        selfPresenceMs: Number(j.selfMs.toFixed(2)),
        componentCpuMs: Number(((cpu1 - cpu0) / 1000).toFixed(2)),
        serverCpuMs: srv0 === null || srv1 === null ? null : Number(((srv1 - srv0) / 1000).toFixed(1)),
        // This process (the 1,000 clients) reading the join's stanzas: is the bench the bottleneck?
        benchCpuMs: Number(((bench1.user + bench1.system) / 1000).toFixed(1)),
      };
    };
    t0 = performance.now();
    joins[1] = await measureJoin(0);
    await clients[0].iq(
      `<iq type='set' id='bigcfg' to='${big}'><query xmlns='${NS_MUC_OWNER}'>${ownerForm(false)}</query></iq>`,
      "bigcfg",
    );
    let i = 1;
    while (i < N) {
      if (measured.has(i + 1)) {
        joins[i + 1] = await measureJoin(i);
        i++;
        continue;
      }
      let end = i;
      while (end < N && end - i < 25 && !measured.has(end + 1)) end++;
      await Promise.all(clients.slice(i, end).map((c, k) => c.join(big, `m${i + k}`)));
      i = end;
    }
    const bigSeconds = (performance.now() - t0) / 1000;
    await until(
      () => clients.slice(0, N).every((c) => (c.presences.get(big) ?? 0) >= N),
      "presences in the big room",
    );
    await delay(500);
    const mC = await child.memory("big");
    out.bigRoom = {
      occupants: N,
      joinsPerSecond: Math.round(N / bigSeconds),
      bytesPerOccupant: Math.round((heap(mC) - heap(mB)) / N),
      rssBytesPerOccupant: Math.round((mC.rss - mB.rss) / N),
      serverRssMiB: serverRssMiB(server),
      joins,
    };
    debug(kind, "big room", JSON.stringify(out.bigRoom));

    // Deliveries to N occupants.
    const M = opts.messages;
    const done = clients.slice(0, N).map(
      (c) =>
        new Promise((resolveDone) => {
          c.counting = { remaining: M, lastAt: 0, done: resolveDone };
        }),
    );
    const sender = clients[0];
    const window = Math.max(1, Math.floor(WINDOW_DELIVERIES / N));
    const messages = Array.from(
      { length: M },
      (_, j) => `<message to='${big}' type='groupchat' id='bm${j}'><body>#BM ${j} ${FILLER}</body></message>`,
    );
    let next = Math.min(window, M);
    sender.counting.onDelivery = () => {
      if (next < M) sender.write(messages[next++]);
    };
    const cpuM0 = await child.cpu();
    const srvM0 = serverCpu(server);
    t0 = performance.now();
    sender.write(messages.slice(0, next).join(""));
    await Promise.race([
      Promise.all(done),
      delay(300_000).then(() => Promise.reject(new Error("deliveries timed out"))),
    ]);
    const lastAt = Math.max(...clients.slice(0, N).map((c) => c.counting.lastAt));
    const srvM1 = serverCpu(server);
    const cpuM1 = await child.cpu();
    for (const c of clients) c.counting = null;
    out.bigRoom.deliveries = {
      messages: M,
      deliveries: M * N,
      perSecond: Math.round((M * N) / ((lastAt - t0) / 1000)),
      componentCpuUsPerDelivery: Number(((cpuM1 - cpuM0) / (M * N)).toFixed(2)),
      serverCpuUsPerDelivery: srvM0 === null ? null : Number(((srvM1 - srvM0) / (M * N)).toFixed(2)),
    };
    debug(kind, "deliveries", JSON.stringify(out.bigRoom.deliveries));

    // ── D: history replay ──
    const H = opts.history;
    const hist = `hist@${MUC}`;
    const w = clients[0];
    await w.join(hist, "writer");
    await w.iq(
      `<iq type='set' id='histcfg' to='${hist}'><query xmlns='${NS_MUC_OWNER}'>${ownerForm(false)}</query></iq>`,
      "histcfg",
    );
    for (let j = 0; j < H; j += 50) {
      const batch = Math.min(50, H - j);
      const reflected = new Promise((ok) => {
        w.counting = { remaining: batch, lastAt: 0, done: ok };
      });
      w.write(
        Array.from(
          { length: batch },
          (_, k) =>
            `<message to='${hist}' type='groupchat' id='h${j + k}'><body>#BM h${j + k} ${FILLER}</body></message>`,
        ).join(""),
      );
      await reflected;
    }
    w.counting = null;
    await delay(300);
    const mD = await child.memory();
    const replay = [];
    const noReplay = [];
    const reader = clients[1];
    for (let r = 0; r < 3; r++) {
      for (const [max, into] of [
        [H, replay],
        [0, noReplay],
      ]) {
        await delay(200);
        let got = 0;
        reader.counting = { remaining: Infinity, lastAt: 0, done: () => undefined, onDelivery: () => got++ };
        const j = await reader.join(hist, "reader", max);
        const subjectMs = await j.subject;
        reader.counting = null;
        into.push({ ms: subjectMs, got });
        await reader.leave(hist, "reader");
      }
    }
    out.history = {
      messages: H,
      historyBytes: mD.buffers.history,
      replayMs: Number(median(replay.map((x) => x.ms)).toFixed(2)),
      replayed: replay[0].got,
      joinWithoutHistoryMs: Number(median(noReplay.map((x) => x.ms)).toFixed(2)),
    };
    debug(kind, "history", JSON.stringify(out.history));
    const mEnd = await child.memory();
    out.finalRssMiB = Number((mEnd.rss / 2 ** 20).toFixed(1));
    out.finalHeapMiB = Number((heap(mEnd) / 2 ** 20).toFixed(1));
  } finally {
    for (const c of clients) c.close();
    await child.stop();
    await server.stop();
  }
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const results = {};
  for (const spec of opts.servers) results[spec] = await runServer(spec, opts);
  const rows = [
    [
      "server",
      "B/idle room",
      "(+store rec)",
      "rooms/s",
      "B/occ (R×P)",
      "joins/s",
      "B/occ (1×N)",
      "joins/s",
      "join 1/10/100/N ms",
      "cpu comp/srv/bench N ms",
      "srv RSS MiB",
      "dlv/s",
      "µs comp/srv",
      "replay ms (H)",
      "no-hist ms",
    ],
  ];
  for (const [kind, r] of Object.entries(results)) {
    const j = r.bigRoom.joins;
    const ks = Object.keys(j)
      .map(Number)
      .sort((a, b) => a - b);
    const last = j[ks[ks.length - 1]];
    rows.push(
      [
        kind,
        r.idleRooms.bytesPerRoom,
        r.idleRooms.bytesPerRoomWithStoreRecord,
        r.idleRooms.roomsPerSecond,
        r.occupiedRooms.bytesPerOccupant,
        r.occupiedRooms.joinsPerSecond,
        r.bigRoom.bytesPerOccupant,
        r.bigRoom.joinsPerSecond,
        ks.map((k) => j[k].selfPresenceMs).join("/"),
        `${last.componentCpuMs}/${last.serverCpuMs}/${last.benchCpuMs}`,
        r.bigRoom.serverRssMiB,
        r.bigRoom.deliveries.perSecond,
        `${r.bigRoom.deliveries.componentCpuUsPerDelivery}/${r.bigRoom.deliveries.serverCpuUsPerDelivery}`,
        `${r.history.replayMs} (${r.history.messages})`,
        r.history.joinWithoutHistoryMs,
      ].map(String),
    );
  }
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  process.stderr.write(
    `\n${rows.map((r) => r.map((x, k) => x.padStart(widths[k])).join("  ")).join("\n")}\n`,
  );
  const goals = {};
  for (const [kind, r] of Object.entries(results)) {
    const j = r.bigRoom.joins[opts.big];
    goals[kind] = {
      occupantAtMost2KiB: Math.max(r.occupiedRooms.bytesPerOccupant, r.bigRoom.bytesPerOccupant) <= 2048,
      idleRoomAtMost8KiB: r.idleRooms.bytesPerRoom <= 8192,
      lastJoinAtMost50ms: j.selfPresenceMs <= 50,
    };
  }
  console.log(
    JSON.stringify({
      bench: "muc-scale",
      options: opts,
      clientTransport: "plain TCP",
      memory:
        "component child heapUsed + external after forced GC (--expose-gc), deltas per room / occupant; RSS deltas alongside",
      results,
      goals,
      durationSeconds: Math.round((performance.now() - started) / 1000),
      kib: Object.fromEntries(
        Object.entries(results).map(([k, r]) => [
          k,
          {
            idleRoom: KiB(r.idleRooms.bytesPerRoom),
            occupant: KiB(r.occupiedRooms.bytesPerOccupant),
            bigOccupant: KiB(r.bigRoom.bytesPerOccupant),
          },
        ]),
      ),
    }),
  );
}

if (process.argv[2] === "--child") {
  await runChild();
} else {
  await main();
  process.exit(0);
}
