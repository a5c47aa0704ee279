// The join of the N-th occupant of one room (issue 19, goal 3: the 1,000th ≤ 50 ms), side by side in
// one run: Cordon's MUC from this checkout, the same from `--baseline DIR` (a built checkout, e.g.
// `git worktree add ../base main`), and an echo component that sends the same stanzas without any
// check — the server's own floor. Each is a child process with its own XEP-0114 component domain on
// the same server; the same N-1 sessions are occupants of each room, the same session joins.
//
//   node bench/muc-join.mjs [--servers prosody,ejabberd] [--occupants 1000] [--repeats 7]
//                           [--baseline DIR] [--cpu-prof DIR]
//
// A join is timed from the joiner's presence sent to its self-presence (status 110) received: per
// XEP-0045 §7.2.3 that comes after the N-1 presences of the others, so it measures the component
// building and handing them over and the server routing them. Then the bench waits until every
// other occupant has the joiner's presence (§7.2.3), reads the component child's CPU (user + system,
// process.cpuUsage) and the server's (/proc, 10 ms ticks) for the whole join, and the joiner
// leaves (§7.14; again waited for everywhere). The variants take turns in every repeat (order
// rotated), after one warm-up round; medians are reported. `--cpu-prof DIR` profiles the Cordon
// children during the measured joins only (node:inspector) into DIR/<server>-<variant>.cpuprofile.
//
// The echo component keeps a list of occupants and, on a join, writes the others' presences (the
// same shape as Cordon's: XEP-0115 caps, muc#user item with the real JID, XEP-0421 occupant id),
// the self-presence, the empty subject and the joiner's presence to the others in one socket write.
// Its occupants are put in by the bench (no joins routed), as the same sessions.
import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readFileSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { setTimeout, clearTimeout } from "node:timers";
import { loadavg } from "node:os";
import { BenchClient, NS_DISCO_INFO, NS_MUC, escAttr } from "./lib/bench-client.mjs";
import { StanzaSplitter } from "./lib/stanza-splitter.mjs";

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), "..");
const DOMAIN = "bench.test";
const SECRET = "bench-muc-join-secret";
const NS_CAPS = "http://jabber.org/protocol/caps";
const NS_SEC_LABEL = "urn:xmpp:sec-label:0";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
const CAPS_NODE = "https://cordon.invalid/bench";
const ALL_CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const ALL_CATEGORIES = ["ALPHA", "BRAVO", "GBR", "USA", "FRA"];
const username = (i) => `s${i}`;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 2) => (x === null ? null : Number(x.toFixed(d)));

/** User + system CPU of `pid`, µs (clock ticks of 10 ms). */
function pidCpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return null;
  }
}

// ───────────────────────────── children ─────────────────────────────

/** A Cordon MUC from the checkout at BENCH_ROOT, every session cleared (in-memory store). */
async function runCordon() {
  const from = createRequire(resolve(process.env.BENCH_ROOT, "package.json"));
  const load = (name) => import(pathToFileURL(from.resolve(name)).href);
  const { createComponent } = await load("@cordon/component");
  const { PolicyRegistry, makeLabel, makeClearance, encodeBerClearance } = await load("@cordon/policy");
  const { MemoryStore } = await load("@cordon/store");
  const { createMucService, DEFAULT_ROOM_CONFIG } = await load("@cordon/muc");
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"));
  const cls = (n) => policy.classifications.find((c) => c.name === n);
  const cat = (n) => policy.categories.find((c) => c.name === n);
  const full = makeClearance(policy, ALL_CLASSES.map(cls), ALL_CATEGORIES.map(cat));
  const unclassified = makeLabel(policy, cls("UNCLASSIFIED"), []);
  const store = new MemoryStore();
  const data = Buffer.from(encodeBerClearance(full)).toString("base64");
  for (let i = 0; i < Number(process.env.BENCH_SESSIONS); i++)
    await store.setUserClearance(`${username(i)}@${DOMAIN}`, { encoding: "ber", data });
  const domain = process.env.BENCH_DOMAIN;
  const muc = createMucService({
    component: createComponent({ service: process.env.BENCH_SERVICE, domain, secret: SECRET }),
    registry,
    governingPolicy: policy.id,
    store,
    settings: {
      domain,
      createRooms: "anyone",
      localDomains: [DOMAIN],
      serviceClearance: full,
      defaultRoomLabel: unclassified,
      defaultRoomClearance: full,
      defaultMessageLabel: unclassified,
      namedLabels: [{ name: "UNCLASSIFIED", label: unclassified }],
      roomDefaults: { ...DEFAULT_ROOM_CONFIG },
      occupantIdSecret: "bench-occupant-secret",
      clearanceRefreshMs: 3_600_000,
      capsTimeoutMs: 5000,
    },
  });
  await muc.start();
  let session;
  childLoop({
    async profileStart() {
      const { Session } = await import("node:inspector/promises");
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 100 });
      await session.post("Profiler.start");
    },
    async profileStop(file) {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
    stop: () => Promise.race([muc.stop().catch(() => undefined), delay(2000)]),
  });
}

/** The presence the echo component sends for occupant `o` to `to` (Cordon's shape, no checks). */
function echoPresence(room, o, to, extra = "") {
  return `<presence from="${escAttr(`${room}/${o.nick}`)}" to="${escAttr(to)}">${o.payload}<x xmlns="${NS_MUC_USER}"><item affiliation="none" role="participant" jid="${escAttr(o.jid)}"/>${extra}</x><occupant-id xmlns="urn:xmpp:occupant-id:0" id="${o.id}"/></presence>`;
}

/** A raw XEP-0114 component: one room, presences sent in one write per join, nothing checked. */
async function runEcho() {
  const domain = process.env.BENCH_DOMAIN;
  const [host, port] = process.env.BENCH_SERVICE.replace("xmpp://", "").split(":");
  const room = `big@${domain}`;
  const occupants = new Map(); // jid → { jid, nick, payload, id }
  const socket = connect(Number(port), host);
  socket.setNoDelay(true);
  let shaken = () => undefined;
  let sent = false;
  let head = "";
  const splitter = new StanzaSplitter((text) => {
    if (text.startsWith("<handshake")) return shaken();
    if (!text.startsWith("<presence")) return;
    const attrs = {};
    for (const m of text.slice(0, text.indexOf(">")).matchAll(/([\w:.-]+)=(?:"([^"]*)"|'([^']*)')/g))
      attrs[m[1]] = m[2] ?? m[3];
    const jid = attrs.from.replace(/&amp;/g, "&");
    const nick = attrs.to.slice(attrs.to.indexOf("/") + 1);
    const out = [];
    if (attrs.type === "unavailable") {
      const o = occupants.get(jid);
      if (!o) return;
      occupants.delete(jid);
      for (const other of occupants.values())
        out.push(echoPresence(room, o, other.jid).replace("<presence ", '<presence type="unavailable" '));
      out.push(
        echoPresence(room, o, jid, '<status code="110"/>').replace(
          "<presence ",
          '<presence type="unavailable" ',
        ),
      );
    } else {
      const caps = /<c xmlns=['"]http:\/\/jabber.org\/protocol\/caps['"][^>]*\/>/.exec(text)?.[0] ?? "";
      const o = { jid, nick, payload: caps, id: createHash("sha256").update(jid).digest("base64") };
      for (const other of occupants.values()) out.push(echoPresence(room, other, jid));
      out.push(echoPresence(room, o, jid, '<status code="110"/><status code="100"/>'));
      out.push(`<message from="${room}" to="${escAttr(jid)}" type="groupchat"><subject/></message>`);
      for (const other of occupants.values()) out.push(echoPresence(room, o, other.jid));
      occupants.set(jid, o);
    }
    socket.write(out.join(""));
  });
  await new Promise((ok, fail) => {
    socket.on("error", fail);
    socket.on("data", (d) => {
      const chunk = d.toString();
      if (!sent) {
        head += chunk;
        const id = /<stream:stream[^>]*\sid=['"]([^'"]+)['"]/.exec(head)?.[1];
        if (id !== undefined) {
          sent = true;
          socket.write(
            `<handshake>${createHash("sha1")
              .update(id + SECRET)
              .digest("hex")}</handshake>`,
          );
        }
      }
      splitter.feed(chunk);
    });
    shaken = ok;
    socket.write(
      `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`,
    );
  });
  childLoop({
    fill(list) {
      for (const o of list) occupants.set(o.jid, o);
    },
    stop: () => socket.end(),
  });
}

function childLoop(handlers) {
  process.on("message", async (msg) => {
    let value;
    if (msg.type === "cpu") {
      const u = process.cpuUsage();
      value = u.user + u.system;
    } else if (msg.type === "stop") {
      await handlers.stop();
      process.exit(0);
    } else value = await handlers[msg.type]?.(msg.arg);
    process.send({ type: "reply", id: msg.id, value });
  });
  process.on("disconnect", () => process.exit(1));
  process.send({ type: "ready" });
}

class Child {
  constructor(variant, server, sessions, checkout) {
    this.variant = variant;
    this.pending = new Map();
    this.nextId = 0;
    this.domain = `${variant}.${DOMAIN}`;
    this.room = `big@${this.domain}`;
    this.child = fork(here, [variant === "echo" ? "--echo" : "--cordon"], {
      env: {
        ...process.env,
        BENCH_ROOT: checkout,
        BENCH_DOMAIN: this.domain,
        BENCH_SERVICE: `xmpp://127.0.0.1:${server.componentPort}`,
        BENCH_SESSIONS: String(sessions),
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((ok, fail) => {
      this.child.once("exit", (code) => fail(new Error(`${variant} exited with ${code}`)));
      this.child.on("message", (msg) => {
        if (msg.type === "ready") ok();
        else if (msg.type === "reply") {
          this.pending.get(msg.id)?.(msg.value);
          this.pending.delete(msg.id);
        }
      });
    });
  }
  ask(type, arg) {
    const id = this.nextId++;
    return new Promise((r) => {
      this.pending.set(id, r);
      this.child.send({ type, id, arg });
    });
  }
  stop() {
    return new Promise((r) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        r();
      }, 5000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        r();
      });
      this.child.send({ type: "stop" });
    });
  }
}

// ───────────────────────────── parent ─────────────────────────────

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

/** A client counting the presences it gets from each occupant (room/nick → count). */
class Client extends BenchClient {
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
    this.caps = CAPS[kind].replace(/'/g, '"');
    this.seen = new Map();
  }
  observe(stanza) {
    if (stanza.name !== "presence" || !stanza.attrs.from) return;
    const from = stanza.attrs.from;
    this.seen.set(from, (this.seen.get(from) ?? 0) + 1);
  }
}

async function until(cond, what, ms = 300_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function parseArgs(argv) {
  const opts = {
    servers: ["prosody", "ejabberd"],
    occupants: 1000,
    repeats: 7,
    baseline: null,
    cpuProf: null,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === "--servers") opts.servers = v.split(",");
    else if (argv[i] === "--occupants") opts.occupants = Number(v);
    else if (argv[i] === "--repeats") opts.repeats = Number(v);
    else if (argv[i] === "--baseline") opts.baseline = resolve(v);
    else if (argv[i] === "--cpu-prof") opts.cpuProf = resolve(v);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opts;
}

async function runServer(spec, opts) {
  const { startServer } = await import("@cordon/harness");
  const [kind, gc] = spec.split(":");
  const N = opts.occupants;
  const variants = [["cordon", root]];
  if (opts.baseline) variants.push(["baseline", opts.baseline]);
  variants.push(["echo", root]);
  const server = await startServer(kind, {
    ...(gc ? { prosodyGc: gc } : {}),
    domain: DOMAIN,
    components: variants.map(([v]) => ({ domain: `${v}.${DOMAIN}`, secret: SECRET })),
    users: Array.from({ length: N }, (_, i) => ({ username: username(i), password: `pw-${username(i)}` })),
  });
  const children = variants.map(([v, checkout]) => new Child(v, server, N, checkout));
  const clients = [];
  const out = {};
  try {
    await Promise.all(children.map((c) => c.ready));
    for (let i = 0; i < N; i += 50) {
      const batch = Array.from({ length: Math.min(50, N - i) }, (_, j) => new Client(server, i + j));
      await Promise.all(batch.map((c) => c.connect()));
      clients.push(...batch);
    }
    const joiner = clients[N - 1];
    const others = clients.slice(0, N - 1);
    // N-1 occupants in each Cordon room (joined 25 at a time, as bench/muc-scale.mjs), put straight
    // into the echo room.
    for (const child of children) {
      if (child.variant === "echo") {
        await child.ask(
          "fill",
          others.map((c, i) => ({
            jid: c.jid,
            nick: `m${i}`,
            payload: c.caps,
            id: createHash("sha256").update(c.jid).digest("base64"),
          })),
        );
        continue;
      }
      const t0 = performance.now();
      await clients[0].join(child.room, "m0");
      await clients[0].iq(
        `<iq type='set' id='cfg' to='${child.room}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
        "cfg",
      );
      for (let i = 1; i < N - 1; i += 25)
        await Promise.all(others.slice(i, i + 25).map((c, k) => c.join(child.room, `m${i + k}`)));
      const last = `${child.room}/m${N - 2}`;
      await until(() => others.every((c) => (c.seen.get(last) ?? 0) >= 1), `${child.variant} filled`);
      process.stderr.write(
        `${spec} ${child.variant}: ${N - 1} occupants in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
    const samples = Object.fromEntries(variants.map(([v]) => [v, []]));
    const nick = `m${N - 1}`;
    const measure = async (child) => {
      const full = `${child.room}/${nick}`;
      const before = joiner.seen.get(full) ?? 0;
      const othersBefore = others.map((c) => c.seen.get(full) ?? 0);
      await delay(300);
      const c0 = await child.ask("cpu");
      const s0 = pidCpuUs(server.pid);
      const t0 = performance.now();
      await joiner.join(child.room, nick);
      const ms = performance.now() - t0;
      await until(() => others.every((c, i) => (c.seen.get(full) ?? 0) > othersBefore[i]), "the fan-out");
      const s1 = pidCpuUs(server.pid);
      const c1 = await child.ask("cpu");
      await joiner.leave(child.room, nick);
      await until(
        () => others.every((c, i) => (c.seen.get(full) ?? 0) >= othersBefore[i] + 2),
        "the leave's fan-out",
      );
      if ((joiner.seen.get(full) ?? 0) < before + 2)
        throw new Error("the joiner's own presences are missing");
      return { ms, componentCpuMs: (c1 - c0) / 1000, serverCpuMs: s0 === null ? null : (s1 - s0) / 1000 };
    };
    for (const child of children) await measure(child); // warm-up (caps, JIT)
    if (opts.cpuProf)
      for (const child of children) if (child.variant !== "echo") await child.ask("profileStart");
    const load0 = loadavg()[0];
    for (let r = 0; r < opts.repeats; r++) {
      for (let k = 0; k < children.length; k++) {
        const child = children[(k + r) % children.length];
        samples[child.variant].push(await measure(child));
      }
    }
    if (opts.cpuProf)
      for (const child of children)
        if (child.variant !== "echo")
          await child.ask(
            "profileStop",
            `${opts.cpuProf}/${kind}${gc ? `-${gc}` : ""}-${child.variant}.cpuprofile`,
          );
    out.loadAverage = [round(load0), round(loadavg()[0])];
    for (const [v] of variants) {
      const s = samples[v];
      out[v] = {
        joinMs: round(median(s.map((x) => x.ms))),
        joinMsAll: s.map((x) => round(x.ms, 1)),
        componentCpuMs: round(median(s.map((x) => x.componentCpuMs))),
        serverCpuMs: round(median(s.map((x) => x.serverCpuMs)), 0),
      };
    }
  } finally {
    for (const c of clients) c.socket?.destroy();
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
    await server.stop();
  }
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const results = {};
  for (const spec of opts.servers) {
    results[spec] = await runServer(spec, opts);
    process.stderr.write(`${spec} ${JSON.stringify(results[spec])}\n`);
  }
  const rows = [["server", "variant", "join ms (median)", "component CPU ms", "server CPU ms", "load"]];
  for (const [spec, r] of Object.entries(results))
    for (const v of ["cordon", "baseline", "echo"])
      if (r[v])
        rows.push(
          [spec, v, r[v].joinMs, r[v].componentCpuMs, r[v].serverCpuMs, r.loadAverage.join("→")].map(String),
        );
  const widths = rows[0].map((_, k) => Math.max(...rows.map((row) => row[k].length)));
  process.stderr.write(
    `\n${rows.map((row) => row.map((x, k) => x.padStart(widths[k])).join("  ")).join("\n")}\n`,
  );
  console.log(JSON.stringify({ bench: "muc-join", options: opts, results }));
}

if (process.argv[2] === "--cordon") await runCordon();
else if (process.argv[2] === "--echo") await runEcho();
else {
  await main();
  process.exit(0);
}
