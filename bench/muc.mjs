// MUC fan-out throughput: deliveries per second through (a) Cordon's labelled MUC component,
// (b) a minimal echo MUC component (no checks, no labels) and (c) the server's native MUC, on the
// same server in the same run (docs/performance.md §1 has the reference figures). N occupants, M groupchat
// messages from one sender; for (a) a third of the occupants are not cleared for half of the labels
// used, and only the deliveries an occupant is entitled to are counted (any other one is a leak and
// is reported). Each component runs in a child process so its CPU time (process.cpuUsage) can be
// given per delivery; the server's CPU time per delivery is read from /proc. The clients (minimal
// raw XMPP clients, so that parsing in this process does not compete with the server for the 2
// cores) run here, over STARTTLS as in docs/performance.md §1 (`--transport plain` for plain TCP). Median
// of 3 runs per cell.
//
//   node bench/muc.mjs [--servers prosody,ejabberd] [--sizes 10,50,100] [--messages M] [--runs 3]
//                      [--modes cordon,echo,native,echo-labelled] [--transport tls|plain] [--profile DIR]
//                      [--store memory|redis]
//                      [--show-copies] [--before DIR] [--callgrind]
//
// "echo-labelled" is the echo component with copies byte for byte as heavy as Cordon's (ECHO_SHAPES:
// the <securitylabel/> only to label-aware occupants, the body with the label's marking as its
// first line (FLOT) to the others, a 16-character stanza-id and a 22-character occupant-id), still
// without checks, to tell the cost of the bytes from the cost of the checks; "echo-ids" (not run
// by default) carries only the two ids the issue requires (XEP-0359 stanza-id, XEP-0421
// occupant-id), the least any compliant labelled MUC must send. The "el-*" modes (issue 19) change
// one element or attribute each, to price each in server CPU per delivery; with --callgrind
// (Prosody only, bench/lib/callgrind.mjs) also in the server's instructions per delivery, which do
// not move with the machine's load (use `--transport plain`, small sizes: valgrind is ~50x slower).
// "cordon-before" runs Cordon as built in another checkout (--before DIR, e.g. a `git worktree`
// of main) beside this one's. --show-copies prints, per mode, one copy of each label as a
// label-aware and a label-unaware occupant received it, byte for byte.
// "echo-multicast" (ejabberd only, not run by default; issue 19 goal 2) sends what "echo-labelled"
// sends, but as ONE stanza per message (per MULTICAST_CHUNK occupants) to ejabberd's mod_multicast
// (XEP-0033) with every occupant as a bcc address, the server making the copies; mod_multicast is
// loaded for that run only (it also changes how the native MUC fans out, so leave "native" out of
// such a run to keep its figure comparable). "cordon-multicast" (ejabberd only, not run by default)
// is Cordon's MUC with `multicast: { service: multicast.<host>, chunk: MULTICAST_CHUNK }`: each
// message's entitled occupants grouped by identical copy, one XEP-0033 stanza per group.
// --messages defaults to 3000 at 10 occupants, 1000 up to 50, 600 above; the sender keeps
// WINDOW_DELIVERIES / N messages in flight. --profile writes a V8 CPU profile of each component
// child (--cpu-prof) into DIR. BENCH_DEBUG=1 logs the phases. A table goes to stderr; the last
// line of stdout is one JSON object with every figure and the ratios cordon/echo, cordon/native.
// --store redis (issue 19 goal 5: the largest Redis load Cordon generates): Cordon's MUC uses a
// RedisStore on a redis-server the bench starts, its rooms persistent (every groupchat message is
// one history append); each cordon run samples Redis's INFO commandstats and INFO cpu (main thread)
// before and after, and reports Redis commands/s, appends/s and Redis CPU µs per second of wall
// time — 1,000,000 divided by the latter is how many times that load one Redis core holds.
import { fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdirSync, readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { setTimeout, clearTimeout } from "node:timers";
import { BenchClient, NS_DISCO_INFO, NS_MUC } from "./lib/bench-client.mjs";
import { callgrindWrapper, dump as callgrindDump, zero as callgrindZero } from "./lib/callgrind.mjs";

const here = fileURLToPath(import.meta.url);
const root = resolve(dirname(here), "..");
const POLICY_FILE = resolve(root, "deploy/quickstart/demo-policy.xml");
const DOMAIN = "bench.test";
const SECRET = "bench-muc-secret";
const MUC_DOMAINS = {
  cordon: `rooms-cordon.${DOMAIN}`,
  "cordon-before": `rooms-cordonb.${DOMAIN}`,
  echo: `rooms-echo.${DOMAIN}`,
  native: `conference.${DOMAIN}`,
  "echo-labelled": `rooms-echol.${DOMAIN}`,
  "echo-ids": `rooms-echoi.${DOMAIN}`,
  "echo-multicast": `rooms-echom.${DOMAIN}`,
  "cordon-multicast": `rooms-cordonm.${DOMAIN}`,
};
/** Modes that need ejabberd's mod_multicast. */
const MULTICAST_MODES = ["echo-multicast", "cordon-multicast"];
/**
 * What each echo mode's copies carry. `label`: the sender's <securitylabel/> to nobody, to
 * label-aware occupants only (as Cordon) or to all; `flot`: the body prefixed with the label's
 * marking (XEP-0258 FLOT) for nobody, for label-unaware occupants (as Cordon) or for all;
 * `stanzaId` / `occupantId`: the length of the XEP-0359 / XEP-0421 id (0: none; Cordon's are 16
 * and 22 characters); `messageId`: the sender's message id kept; `labelLast`: the label after the
 * ids; `displayMarking: false`: the label without its <displaymarking/>. The "el-*" modes change
 * one thing each, to price each element of a copy in server CPU (docs/performance.md §2).
 */
const COPY = { label: "none", flot: "none", stanzaId: 16, occupantId: 22, messageId: true };
const ECHO_SHAPES = {
  echo: { ...COPY, stanzaId: 0, occupantId: 0 },
  "echo-ids": COPY,
  "echo-labelled": { ...COPY, label: "aware", flot: "unaware" },
  "echo-multicast": { ...COPY, label: "aware", flot: "unaware" },
  "el-body": { ...COPY, stanzaId: 0, occupantId: 0 },
  "el-noid": { ...COPY, stanzaId: 0, occupantId: 0, messageId: false },
  "el-sid": { ...COPY, occupantId: 0 },
  "el-sid36": { ...COPY, stanzaId: 36, occupantId: 0 },
  "el-oid": { ...COPY, stanzaId: 0 },
  "el-ids": COPY,
  "el-ids-long": { ...COPY, stanzaId: 36, occupantId: 35 },
  "el-ids-noid": { ...COPY, messageId: false },
  "el-flot": { ...COPY, flot: "all" },
  "el-label": { ...COPY, label: "all" },
  "el-label-last": { ...COPY, label: "all", labelLast: true },
  "el-label-nodm": { ...COPY, label: "all", displayMarking: false },
  "el-labelled": { ...COPY, label: "aware", flot: "unaware" },
};
for (const mode of Object.keys(ECHO_SHAPES))
  if (mode.startsWith("el-")) MUC_DOMAINS[mode] = `rooms-${mode}.${DOMAIN}`;
/** Echo modes whose sender sends a label (the copies carry it or its marking). */
const sendsLabel = (mode) =>
  isCordon(mode) ||
  (mode in ECHO_SHAPES && (ECHO_SHAPES[mode].label !== "none" || ECHO_SHAPES[mode].flot !== "none"));
/** ejabberd's mod_multicast (XEP-0033 §2.2), loaded when "echo-multicast" runs. */
const MULTICAST_SERVICE = `multicast.${DOMAIN}`;
/**
 * Addresses per outer stanza. mod_multicast counts a component as a "remote" sender (its domain is
 * not one of the server's hosts), whose default limit is 20 per message; the run raises it to this.
 */
const MULTICAST_CHUNK = 100;
const NS_ADDRESS = "http://jabber.org/protocol/address";
/** Modes that run a component of ours in a child process. */
const COMPONENT_MODES = ["cordon", "cordon-before", "cordon-multicast", ...Object.keys(ECHO_SHAPES)];
/**
 * "cordon-before": Cordon as built in another checkout (`--before DIR`, e.g. a `git worktree` of
 * main), run by that checkout's own bench child, side by side with this one's "cordon".
 */
/** Cordon's MUC: as built here, with XEP-0033 multicast, or as built in another checkout. */
const isCordon = (mode) => mode === "cordon" || mode === "cordon-multicast" || mode === "cordon-before";
let beforeDir = "";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
const NS_SEC_LABEL = "urn:xmpp:sec-label:0";
const FILLER = "the quick brown fox jumps over the lazy dog";
/**
 * Copies in flight at most (sender's window × N). @cordon/component's outgoing queue holds 10,000
 * stanzas; a burst beyond that makes sendRaw fail (see the report), so the sender is paced.
 */
const WINDOW_DELIVERIES = 4000;

// Labels cycled over the messages, and who may read them: "full" occupants hold every
// classification and category; "limited" ones (a third) hold UNCLASSIFIED..CONFIDENTIAL and GBR.
// The entitlement table is written out here, not computed with the policy engine under test.
const ALL_CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const CLEARANCES = {
  full: { classes: ALL_CLASSES, categories: ["ALPHA", "BRAVO", "GBR", "USA", "FRA"] },
  limited: { classes: ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"], categories: ["GBR"] },
};
const LABELS = [
  { classification: "UNCLASSIFIED", categories: [], readers: ["full", "limited"] },
  { classification: "SECRET", categories: [], readers: ["full"] },
  { classification: "SECRET", categories: ["ALPHA"], readers: ["full"] },
  { classification: "CONFIDENTIAL", categories: ["GBR", "USA"], readers: ["full", "limited"] },
];
const clearanceKind = (i) => (i % 3 === 2 ? "limited" : "full");
const labelAware = (i) => i % 2 === 0;
const username = (i) => `b${i}`;

const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** CPU time (user + system, µs) the server process has used so far, from /proc (Linux); null elsewhere. */
const CLOCK_TICK_US = 10_000; // USER_HZ is 100 on Linux
function serverCpu(server) {
  try {
    const stat = readFileSync(`/proc/${server.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US; // utime, stime
  } catch {
    return null;
  }
}
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const debug = (...args) => {
  if (process.env.BENCH_DEBUG)
    process.stderr.write(`[${(performance.now() / 1000).toFixed(2)}s] ${args.join(" ")}\n`);
};

// ───────────────────────────── child: one component per process ─────────────────────────────

async function runChild(mode) {
  const { createComponent, escapeXml, escapeXmlText } = await import("@cordon/component");
  const service = process.env.BENCH_SERVICE;
  const domain = process.env.BENCH_DOMAIN;
  let stop;
  if (mode in ECHO_SHAPES) {
    // The minimal echo MUC: a join is answered with a self-presence; each groupchat body is
    // reflected to every occupant of the room. No checks, no history. What a copy carries is the
    // mode's shape (ECHO_SHAPES): "echo-labelled" sends what Cordon sends, byte for byte in size —
    // the <securitylabel/> only to label-aware occupants, the body with the marking as its first
    // line (FLOT) to the others, a 16-character stanza-id and a 22-character occupant-id — so its
    // copies cost the server what Cordon's cost, without the checks.
    const { randomBytes } = await import("node:crypto");
    const shape = ECHO_SHAPES[mode];
    const multicast = mode === "echo-multicast";
    const aware = new Set(
      JSON.parse(process.env.BENCH_USERS ?? "[]")
        .filter((u) => u.aware)
        .map((u) => u.jid),
    );
    const component = createComponent({ service, domain, secret: SECRET });
    /** room → (occupant's full JID → { nick, aware }) */
    const rooms = new Map();
    component.onPresence(async (st) => {
      const to = st.attrs.to ?? "";
      const from = st.attrs.from ?? "";
      const slash = to.indexOf("/");
      if (slash < 0) return;
      const room = to.slice(0, slash);
      let occupants = rooms.get(room);
      if (st.attrs.type === "unavailable") {
        occupants?.delete(from);
        if (occupants?.size === 0) rooms.delete(room);
        return;
      }
      if (st.attrs.type !== undefined) return;
      if (!occupants) rooms.set(room, (occupants = new Map()));
      const bare = from.split("/")[0];
      occupants.set(from, { nick: to.slice(slash + 1), aware: aware.has(bare) });
      await component.sendRaw([
        `<presence from="${escapeXml(to)}" to="${escapeXml(from)}"><x xmlns="${NS_MUC_USER}"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`,
      ]);
    });
    const randomId = (chars) =>
      randomBytes(Math.ceil((chars * 3) / 4))
        .toString("base64url")
        .slice(0, chars);
    component.onMessage(async (st) => {
      if (st.attrs.type === "error")
        debug(mode, "error from", st.attrs.from ?? "", st.getChild("error")?.toString() ?? "");
      if (st.attrs.type !== "groupchat") return;
      const room = st.attrs.to ?? "";
      const occupants = rooms.get(room);
      const nick = occupants?.get(st.attrs.from ?? "")?.nick;
      const body = st.getChildText("body");
      if (nick === undefined || body === null || body === undefined) return;
      const label = st.getChild("securitylabel", NS_SEC_LABEL);
      const marking = label?.getChild("displaymarking")?.text() ?? "";
      let labelXml = "";
      if (label && shape.label !== "none") {
        if (shape.displayMarking === false) {
          // The label without its <displaymarking/> (a diagnostic: what that element costs).
          const xml = label.toString();
          labelXml = xml.replace(/<displaymarking[^>]*>[^<]*<\/displaymarking>/, "");
        } else labelXml = label.toString();
      }
      const id = shape.messageId && st.attrs.id ? ` id="${escapeXml(st.attrs.id)}"` : "";
      const head = `<message from="${escapeXml(`${room}/${nick}`)}" type="groupchat"${id} to="`;
      let ids = "";
      if (shape.stanzaId)
        ids += `<stanza-id xmlns="urn:xmpp:sid:0" id="${randomId(shape.stanzaId)}" by="${escapeXml(room)}"/>`;
      if (shape.occupantId)
        ids += `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="${escapeXml(`${nick}-0123456789abcdef0123456789abcdef`.slice(-shape.occupantId))}"/>`;
      /** The payload for a label-aware (true) or label-unaware (false) occupant. */
      const payload = (isAware) => {
        const flot = shape.flot === "all" || (shape.flot === "unaware" && !isAware);
        const withLabel = shape.label === "all" || (shape.label === "aware" && isAware);
        const text = flot ? `${marking}\n${body}` : body;
        const l = withLabel ? labelXml : "";
        return `<body>${escapeXmlText(text)}</body>${shape.labelLast ? ids + l : l + ids}`;
      };
      const tails = [payload(false), payload(true)];
      const out = [];
      if (multicast) {
        // XEP-0033 §3: the outer stanza goes to the multicast service; §4.6.3: bcc addresses are
        // removed before delivery (mod_multicast delivers a stanza with no <addresses/> at all when
        // every address is bcc). One group per client kind: their copies differ.
        for (const kind of [false, true]) {
          const jids = [...occupants].filter(([, o]) => o.aware === kind).map(([jid]) => jid);
          for (let k = 0; k < jids.length; k += MULTICAST_CHUNK) {
            const addresses = jids
              .slice(k, k + MULTICAST_CHUNK)
              .map((jid) => `<address type="bcc" jid="${escapeXml(jid)}"/>`)
              .join("");
            out.push(
              `${head}${MULTICAST_SERVICE}">${tails[kind ? 1 : 0]}<addresses xmlns="${NS_ADDRESS}">${addresses}</addresses></message>`,
            );
          }
        }
      } else {
        for (const [jid, o] of occupants)
          out.push(`${head}${escapeXml(jid)}">${tails[o.aware ? 1 : 0]}</message>`);
      }
      await component.sendRaw(out);
    });
    await component.start();
    stop = () => component.stop();
  } else {
    const { PolicyRegistry, makeLabel, makeClearance, encodeBerClearance } = await import("@cordon/policy");
    const { MemoryStore } = await import("@cordon/store");
    const { createMucService, DEFAULT_ROOM_CONFIG } = await import("@cordon/muc");
    const registry = new PolicyRegistry();
    const policy = registry.loadFileSync(POLICY_FILE);
    const cls = (n) => policy.classifications.find((c) => c.name === n);
    const cat = (n) => policy.categories.find((c) => c.name === n);
    const clearance = (k) =>
      makeClearance(policy, CLEARANCES[k].classes.map(cls), CLEARANCES[k].categories.map(cat));
    const unclassified = makeLabel(policy, cls("UNCLASSIFIED"), []);
    const redisUrl = process.env.BENCH_REDIS_URL;
    let store = new MemoryStore();
    if (redisUrl) {
      const { RedisStore } = await import("@cordon/store");
      store = new RedisStore({ url: redisUrl, prefix: "bench:" });
      await store.ready(5000);
    }
    const users = JSON.parse(process.env.BENCH_USERS ?? "[]");
    for (const { jid, kind } of users) {
      await store.setUserClearance(jid, {
        encoding: "ber",
        data: Buffer.from(encodeBerClearance(clearance(kind))).toString("base64"),
      });
    }
    const muc = createMucService({
      component: createComponent({ service, domain, secret: SECRET }),
      registry,
      governingPolicy: policy.id,
      store,
      settings: {
        domain,
        createRooms: "anyone",
        localDomains: [DOMAIN],
        serviceClearance: clearance("full"),
        defaultRoomLabel: unclassified,
        defaultRoomClearance: clearance("full"),
        defaultMessageLabel: unclassified,
        namedLabels: [{ name: "UNCLASSIFIED", label: unclassified }],
        // With Redis: persistent rooms, so each groupchat message is one history append.
        roomDefaults: { ...DEFAULT_ROOM_CONFIG, ...(redisUrl ? { persistent: true } : {}) },
        occupantIdSecret: "bench-occupant-secret",
        clearanceRefreshMs: 600_000,
        capsTimeoutMs: 2000,
        // The sender keeps WINDOW_DELIVERIES / N messages in flight (80 at 50 occupants), above the
        // default per-sender pending budget (50, @cordon/component pending-budget.ts): past it the
        // MUC refuses with resource-constraint and the run would wait for copies never sent.
        limits: { pending: { perSender: 1000 } },
        ...(mode === "cordon-multicast"
          ? {
              multicast: {
                service: MULTICAST_SERVICE,
                chunk: MULTICAST_CHUNK,
                timeoutMs: 5000,
                maxBytes: 16 * 1024 * 1024,
              },
            }
          : {}),
      },
    });
    await muc.start();
    stop = () => muc.stop();
  }
  process.on("message", async (msg) => {
    if (msg.type === "cpu") process.send({ type: "cpu", id: msg.id, usage: process.cpuUsage() });
    else if (msg.type === "stop") {
      await stop().catch(() => undefined);
      process.exit(0);
    }
  });
  // The parent went away (killed, crashed): do not linger reconnecting to a stopped server.
  process.on("disconnect", () => process.exit(1));
  process.send({ type: "ready" });
}

// ───────────────────────────── parent: raw clients ─────────────────────────────

/**
 * A bench client (bench/lib/bench-client.mjs) that, during a measurement, only looks for the
 * bench marker in message bodies and counts it, without building a stanza object.
 */
class RawClient extends BenchClient {
  constructor(server, index, tls) {
    const aware = labelAware(index);
    super({
      port: server.c2sPort,
      domain: DOMAIN,
      user: username(index),
      tls,
      features: [NS_DISCO_INFO, NS_MUC, ...(aware ? [NS_SEC_LABEL] : [])],
      recent: 200,
    });
    this.server = server;
    this.index = index;
    this.aware = aware;
    this.presenceByRoom = new Map();
    this.counting = null;
  }

  intercept(text) {
    const counting = this.counting;
    if (counting === null || !text.startsWith("<message")) return false;
    const at = text.indexOf("#BM");
    if (at < 0) return false;
    const dot = text.indexOf(".", at + 5);
    if (text.slice(at + 5, dot) !== counting.tag) return false;
    const label = text.charCodeAt(at + 3) - 48;
    counting.counts[label]++;
    counting.bytes += text.length;
    if (counting.samples && counting.samples[label] === undefined) counting.samples[label] = text;
    counting.lastAt = performance.now();
    if (--counting.remaining === 0) counting.done();
    counting.onDelivery?.();
    return true;
  }

  /** The occupants each room has shown (XEP-0045 §7.2.3). */
  observe(stanza) {
    if (stanza.name !== "presence" || !stanza.attrs.from || !stanza.text.includes(NS_MUC_USER)) return;
    const from = stanza.attrs.from;
    const slash = from.indexOf("/");
    if (slash <= 0) return;
    const room = from.slice(0, slash);
    let nicks = this.presenceByRoom.get(room);
    if (!nicks) this.presenceByRoom.set(room, (nicks = new Set()));
    nicks.add(from.slice(slash + 1));
  }
}

// ───────────────────────────── parent: components in children ─────────────────────────────

class ComponentChild {
  constructor(mode, server, users, profileDir, redisUrl) {
    this.mode = mode;
    this.pending = new Map();
    this.nextId = 0;
    this.exited = false;
    const before = mode === "cordon-before";
    this.child = fork(
      before ? resolve(beforeDir, "bench/muc.mjs") : here,
      ["--child", before ? "cordon" : mode],
      {
        env: {
          ...process.env,
          BENCH_SERVICE: `xmpp://127.0.0.1:${server.componentPort}`,
          BENCH_DOMAIN: MUC_DOMAINS[mode],
          BENCH_USERS: JSON.stringify(users),
          ...(mode === "cordon" && redisUrl ? { BENCH_REDIS_URL: redisUrl } : {}),
        },
        execArgv: profileDir
          ? [
              "--cpu-prof",
              `--cpu-prof-dir=${profileDir}`,
              `--cpu-prof-name=${mode}-${server.kind}.cpuprofile`,
            ]
          : [],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
    this.child.once("exit", (code) => {
      this.exited = true;
      for (const settle of this.pending.values()) settle(null);
      this.pending.clear();
      if (code !== 0) process.stderr.write(`${mode} component exited with code ${code}\n`);
    });
    this.ready = new Promise((resolveReady, rejectReady) => {
      this.child.once("exit", (code) =>
        rejectReady(new Error(`${mode} component exited with ${code} before it was ready`)),
      );
      this.child.on("message", (msg) => {
        if (msg.type === "ready") resolveReady();
        else if (msg.type === "cpu") {
          this.pending.get(msg.id)?.(msg.usage);
          this.pending.delete(msg.id);
        }
      });
    });
  }

  /** CPU time of the child so far, in µs (user + system); null once it has exited. */
  cpu() {
    if (this.exited) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((r) => {
      this.pending.set(id, (u) => r(u ? u.user + u.system : null));
      this.child.send({ type: "cpu", id });
    });
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

// ───────────────────────────── parent: Redis load (--store redis) ─────────────────────────────

/** INFO commandstats (calls per command) and the main thread's CPU seconds (INFO cpu). */
async function redisSampler(url) {
  const { Redis } = await import("ioredis");
  const client = new Redis(url);
  return {
    async sample() {
      const stats = await client.info("commandstats");
      const cpu = await client.info("cpu");
      const calls = {};
      for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gmu)) calls[m[1]] = Number(m[2]);
      const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, "mu").exec(cpu)?.[1] ?? NaN);
      const main = field("used_cpu_user_main_thread") + field("used_cpu_sys_main_thread");
      return { calls, cpuS: Number.isNaN(main) ? field("used_cpu_user") + field("used_cpu_sys") : main };
    },
    close: () => client.quit(),
  };
}

/** What one run asked of Redis, per second of the run (the samplers' own INFO calls left out). */
function redisLoad(a, b, seconds, messages) {
  const delta = {};
  for (const [cmd, n] of Object.entries(b.calls)) {
    const d = n - (a.calls[cmd] ?? 0) - (cmd === "info" ? 2 : 0);
    if (d > 0) delta[cmd] = d;
  }
  const commands = Object.values(delta).reduce((x, y) => x + y, 0);
  // Every groupchat message of a persistent room is one append; since the store batches the appends
  // waiting at one moment (packages/store/src/history-batch.ts), one EVALSHA carries several.
  const scriptCalls = (delta.evalsha ?? 0) + (delta.eval ?? 0);
  const appends = messages;
  const cpuUs = (b.cpuS - a.cpuS) * 1e6;
  return {
    commandsPerSecond: commands / seconds,
    appendsPerSecond: appends / seconds,
    scriptCallsPerSecond: scriptCalls / seconds,
    appendsPerScriptCall: scriptCalls > 0 ? appends / scriptCalls : null,
    messagesPerSecond: messages / seconds,
    cpuUsPerSecond: cpuUs / seconds,
    cpuUsPerAppend: appends > 0 ? cpuUs / appends : null,
    commands: delta,
  };
}

function redisCell(loads) {
  const ok = loads.filter(Boolean);
  const med = (f) => median(ok.map(f));
  const cpuUsPerSecond = med((l) => l.cpuUsPerSecond);
  return {
    commandsPerSecond: Math.round(med((l) => l.commandsPerSecond)),
    appendsPerSecond: Math.round(med((l) => l.appendsPerSecond)),
    scriptCallsPerSecond: Math.round(med((l) => l.scriptCallsPerSecond)),
    appendsPerScriptCall: Number((med((l) => l.appendsPerScriptCall ?? 0) ?? 0).toFixed(1)),
    messagesPerSecond: Math.round(med((l) => l.messagesPerSecond)),
    cpuUsPerSecond: Math.round(cpuUsPerSecond),
    cpuUsPerAppend: Number((med((l) => l.cpuUsPerAppend ?? 0) ?? 0).toFixed(1)),
    /** How many times this load one Redis core (1,000,000 µs/s) holds, from Redis's own CPU. */
    oneCoreHolds: cpuUsPerSecond > 0 ? Number((1e6 / cpuUsPerSecond).toFixed(1)) : null,
    runs: ok.map((l) => ({
      commandsPerSecond: Math.round(l.commandsPerSecond),
      appendsPerSecond: Math.round(l.appendsPerSecond),
      scriptCallsPerSecond: Math.round(l.scriptCallsPerSecond),
      cpuUsPerSecond: Math.round(l.cpuUsPerSecond),
      commands: l.commands,
    })),
  };
}

// ───────────────────────────── parent: the measurement ─────────────────────────────

function parseArgs(argv) {
  const opts = {
    servers: ["prosody", "ejabberd"],
    sizes: [10, 50, 100],
    messages: undefined,
    runs: 3,
    modes: ["cordon", "echo", "native", "echo-labelled"],
    profile: undefined,
    transport: "tls",
    store: "memory",
    showCopies: false,
    callgrind: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    const list = (v) =>
      v
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
    switch (argv[i]) {
      case "--servers":
        opts.servers = list(next());
        break;
      case "--sizes":
        opts.sizes = list(next()).map(Number);
        break;
      case "--messages":
        opts.messages = Number(next());
        break;
      case "--runs":
        opts.runs = Number(next());
        break;
      case "--modes":
        opts.modes = list(next());
        break;
      case "--profile":
        opts.profile = resolve(next());
        break;
      case "--transport":
        opts.transport = next();
        break;
      case "--store":
        opts.store = next();
        break;
      case "--before":
        opts.before = resolve(next());
        break;
      case "--callgrind":
        opts.callgrind = true;
        break;
      case "--show-copies":
        opts.showCopies = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  for (const s of opts.sizes) if (!Number.isInteger(s) || s < 2) throw new Error(`bad size ${s}`);
  for (const m of opts.modes) if (!(m in MUC_DOMAINS)) throw new Error(`unknown mode ${m}`);
  if (opts.modes.includes("cordon-before") && !opts.before)
    throw new Error("cordon-before needs --before DIR (a built checkout, e.g. a git worktree of main)");
  const multicast = opts.modes.some((m) => MULTICAST_MODES.includes(m));
  if (multicast && opts.servers.some((s) => s !== "ejabberd"))
    throw new Error(
      "echo-multicast and cordon-multicast need ejabberd's mod_multicast (Prosody 0.12 has no XEP-0033 service): --servers ejabberd",
    );
  if (multicast && opts.modes.includes("native"))
    throw new Error(
      "echo-multicast or cordon-multicast and native cannot share a run (mod_multicast changes how mod_muc fans out)",
    );
  if (opts.store !== "memory" && opts.store !== "redis")
    throw new Error(`--store is memory or redis, not ${opts.store}`);
  if (opts.transport !== "tls" && opts.transport !== "plain")
    throw new Error(`--transport is tls or plain, not ${opts.transport}`);
  return opts;
}

/** Enough messages for 30,000-60,000 deliveries per run (a fraction of a second at these rates would be noise). */
const messagesFor = (opts, n) => opts.messages ?? (n <= 10 ? 3000 : n <= 50 ? 1000 : 600);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  beforeDir = opts.before ?? "";
  const { startServer } = await import("@cordon/harness");
  const { PolicyRegistry, makeLabel, buildSecurityLabelXml } = await import("@cordon/policy");
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(POLICY_FILE);
  const labelXml = LABELS.map((l) =>
    buildSecurityLabelXml(
      makeLabel(
        policy,
        policy.classifications.find((c) => c.name === l.classification),
        l.categories.map((n) => policy.categories.find((c) => c.name === n)),
      ),
    ),
  );
  if (opts.profile) mkdirSync(opts.profile, { recursive: true });
  const redis = opts.store === "redis" ? await (await import("@cordon/harness")).startRedis() : undefined;
  const redisInfo = redis ? await redisSampler(redis.url) : undefined;
  const maxN = Math.max(...opts.sizes);
  const counted = (kind) => opts.callgrind && kind === "prosody";
  const started = performance.now();
  const results = {};
  let leaks = 0;
  let failures = 0;
  let runCounter = 0;

  for (const kind of opts.servers) {
    const server = await startServer(kind, {
      domain: DOMAIN,
      components: COMPONENT_MODES.filter((m) => opts.modes.includes(m)).map((m) => ({
        domain: MUC_DOMAINS[m],
        secret: SECRET,
      })),
      // The harness puts the native MUC in ejabberd's host_config, whose `modules` replace the
      // global list for the host (ejabberd_config:set_host_config/1): mod_multicast would not run.
      ...(opts.modes.some((m) => MULTICAST_MODES.includes(m))
        ? {}
        : { nativeMuc: { domain: MUC_DOMAINS.native, historyLength: 10 } }),
      // ejabberd 23.01 src/mod_multicast.erl: service at multicast.@HOST@; a component is a
      // "remote" sender (sender_type/1), limited to 20 addresses per message by default.
      ...(opts.modes.some((m) => MULTICAST_MODES.includes(m))
        ? {
            extraModules: [
              `mod_multicast: {limits: {remote: {message: ${MULTICAST_CHUNK}, presence: ${MULTICAST_CHUNK}}}}`,
            ],
          }
        : {}),
      starttls: opts.transport === "tls",
      // --callgrind: Prosody's instructions per delivery (bench/lib/callgrind.mjs), not its CPU time.
      ...(counted(kind) ? { wrapper: callgrindWrapper(), startTimeoutMs: 180_000 } : {}),
      users: Array.from({ length: maxN }, (_, i) => ({
        username: username(i),
        password: `pw-${username(i)}`,
      })),
    });
    const children = {};
    const clients = [];
    results[kind] = {};
    try {
      const users = Array.from({ length: maxN }, (_, i) => ({
        jid: `${username(i)}@${DOMAIN}`,
        kind: clearanceKind(i),
        aware: labelAware(i),
      }));
      for (const mode of opts.modes)
        if (COMPONENT_MODES.includes(mode))
          children[mode] = new ComponentChild(mode, server, users, opts.profile, redis?.url);
      await Promise.all(Object.values(children).map((c) => c.ready));
      debug("children ready");
      for (let i = 0; i < maxN; i += 20) {
        const batch = Array.from(
          { length: Math.min(20, maxN - i) },
          (_, j) => new RawClient(server, i + j, opts.transport === "tls"),
        );
        await Promise.all(batch.map((c) => c.connect()));
        clients.push(...batch);
      }
      debug("clients connected");

      /** One measured run: a fresh room, N joins, M messages from occupant 0; deliveries/s and CPU µs/delivery. */
      async function run(mode, n, m) {
        const tag = `r${++runCounter}`;
        const room = `${tag}@${MUC_DOMAINS[mode]}`;
        const occupants = clients.slice(0, n);
        const nick = (c) => `n${c.index}`;
        debug(mode, n, m, "join");
        await occupants[0].join(room, nick(occupants[0]));
        if (isCordon(mode)) {
          // XEP-0045 §10.1.2: the owner accepts the default configuration (instant room).
          await occupants[0].iq(
            `<iq type='set' id='${tag}-own' to='${room}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
            `${tag}-own`,
          );
        }
        await Promise.all(occupants.slice(1).map((c) => c.join(room, nick(c))));
        if (isCordon(mode) || mode === "native") {
          // Let every occupant's presence reach every occupant before timing starts.
          const deadline = Date.now() + 30_000;
          while (occupants.some((c) => (c.presenceByRoom.get(room)?.size ?? 0) < n) && Date.now() < deadline)
            await delay(20);
        }
        await delay(300);
        const expected = occupants.map((c) =>
          LABELS.map((l, li) => {
            let count = 0;
            for (let j = 0; j < m; j++)
              if (j % LABELS.length === li && (!isCordon(mode) || l.readers.includes(clearanceKind(c.index))))
                count++;
            return count;
          }),
        );
        const total = expected.reduce((a, e) => a + e.reduce((x, y) => x + y, 0), 0);
        const done = occupants.map(
          (c, k) =>
            new Promise((resolveDone) => {
              const remaining = expected[k].reduce((x, y) => x + y, 0);
              c.counting = {
                tag,
                counts: LABELS.map(() => 0),
                remaining,
                lastAt: 0,
                bytes: 0,
                samples: opts.showCopies ? [] : undefined,
                done: resolveDone,
              };
              if (remaining === 0) resolveDone();
            }),
        );
        debug(mode, "joined");
        const child = children[mode];
        const cpu0 = child ? await child.cpu() : 0;
        if (counted(kind)) callgrindZero(server);
        const serverCpu0 = serverCpu(server);
        const redis0 = mode === "cordon" ? await redisInfo?.sample() : undefined;
        const messages = [];
        for (let j = 0; j < m; j++) {
          const li = j % LABELS.length;
          messages.push(
            `<message to='${room}' type='groupchat' id='${tag}-${j}'><body>#BM${li}.${tag}.${j} ${FILLER}</body>${sendsLabel(mode) ? labelXml[li] : ""}</message>`,
          );
        }
        // The sender keeps `window` messages in flight (its own reflection acknowledges one), so
        // that at most ~WINDOW_DELIVERIES copies wait in a component's outgoing queue.
        // Capped at 800: the MUC's per-sender pending budget is 1000 here (below), and small rooms
        // (2 occupants: 2,000) would exceed it and wait for copies never sent (refused).
        const window = Math.max(1, Math.min(800, Math.floor(WINDOW_DELIVERIES / n)));
        let next = Math.min(window, m);
        occupants[0].counting.onDelivery = () => {
          if (next < m) occupants[0].write(messages[next++]);
        };
        const t0 = performance.now();
        occupants[0].write(messages.slice(0, next).join(""));
        let timedOut = false;
        await Promise.race([
          Promise.all(done),
          delay(120_000).then(() => {
            timedOut = true;
          }),
        ]);
        debug(mode, "done", timedOut ? "TIMEOUT" : "");
        const serverCpu1 = serverCpu(server);
        const serverIr = counted(kind) ? await callgrindDump(server) : null;
        const cpu1 = child ? await child.cpu() : 0;
        const redis1 = redis0 ? await redisInfo.sample() : undefined;
        if (child && (cpu0 === null || cpu1 === null))
          throw new Error(`${mode} component died during the run`);
        let got = 0;
        let bytes = 0;
        let lastAt = t0;
        for (const [k, c] of occupants.entries()) {
          const counting = c.counting;
          c.counting = null;
          // --show-copies: one copy of each label as a label-aware and a label-unaware occupant
          // (neither the sender) received it, byte for byte, to compare what the modes send.
          if (opts.showCopies && (k === 1 || k === 4))
            for (const [li, sample] of counting.samples.entries())
              if (sample !== undefined)
                process.stderr.write(
                  `copy ${kind} ${mode} N=${n} ${c.aware ? "label-aware" : "label-unaware"} ${LABELS[li].classification}${LABELS[li].categories.length ? `/${LABELS[li].categories.join("+")}` : ""} (${Buffer.byteLength(sample)} B): ${JSON.stringify(sample)}\n`,
                );
          lastAt = Math.max(lastAt, counting.lastAt);
          bytes += counting.bytes;
          for (const [li, count] of counting.counts.entries()) {
            got += Math.min(count, expected[k][li]);
            if (count > expected[k][li]) leaks += count - expected[k][li];
          }
        }
        if (timedOut) failures++;
        const seconds = (lastAt - t0) / 1000;
        return {
          deliveries: got,
          expected: total,
          perSecond: timedOut ? null : total / seconds,
          cpuUsPerDelivery: child ? (cpu1 - cpu0) / Math.max(1, got) : null,
          serverCpuUsPerDelivery:
            serverCpu0 === null || serverCpu1 === null ? null : (serverCpu1 - serverCpu0) / Math.max(1, got),
          bytesPerDelivery: bytes / Math.max(1, got),
          redis: redis0 && redis1 && !timedOut ? redisLoad(redis0, redis1, seconds, m) : undefined,
          serverInstructionsPerDelivery: serverIr === null ? null : serverIr / Math.max(1, got),
        };
      }

      // Warm-up (JIT, server caches, component connections); not counted.
      for (const mode of opts.modes) await run(mode, Math.min(10, maxN), 40);

      for (const n of opts.sizes) {
        const m = messagesFor(opts, n);
        const runs = Object.fromEntries(opts.modes.map((mode) => [mode, []]));
        for (let r = 0; r < opts.runs; r++) {
          // Rotate the order so drift over the run does not favour one mode.
          const order = opts.modes.map((_, k) => opts.modes[(k + r) % opts.modes.length]);
          for (const mode of order) runs[mode].push(await run(mode, n, m));
        }
        const cell = { occupants: n, messages: m };
        for (const mode of opts.modes) {
          cell[mode] = {
            deliveriesPerRun: runs[mode][0]?.expected ?? 0,
            perSecond: Math.round(median(runs[mode].map((x) => x.perSecond)) ?? 0) || null,
            runs: runs[mode].map((x) => (x.perSecond === null ? null : Math.round(x.perSecond))),
            cpuUsPerDelivery:
              mode === "native"
                ? null
                : Number((median(runs[mode].map((x) => x.cpuUsPerDelivery)) ?? 0).toFixed(2)),
            serverCpuUsPerDelivery: Number(
              (median(runs[mode].map((x) => x.serverCpuUsPerDelivery)) ?? 0).toFixed(2),
            ),
            bytesPerDelivery: Math.round(median(runs[mode].map((x) => x.bytesPerDelivery)) ?? 0),
            serverInstructionsPerDelivery: counted(kind)
              ? Math.round(median(runs[mode].map((x) => x.serverInstructionsPerDelivery)) ?? 0)
              : null,
            missing: runs[mode].reduce((a, x) => a + (x.expected - x.deliveries), 0),
            ...(runs[mode].some((x) => x.redis) ? { redis: redisCell(runs[mode].map((x) => x.redis)) } : {}),
          };
        }
        const ratio = (a, b) =>
          cell[a]?.perSecond && cell[b]?.perSecond
            ? Number((cell[a].perSecond / cell[b].perSecond).toFixed(3))
            : null;
        cell.ratios = {
          cordonEcho: ratio("cordon", "echo"),
          cordonNative: ratio("cordon", "native"),
          echoNative: ratio("echo", "native"),
          cordonEchoLabelled: ratio("cordon", "echo-labelled"),
          cordonEchoIds: ratio("cordon", "echo-ids"),
          cordonBefore: ratio("cordon", "cordon-before"),
          echoIdsEcho: ratio("echo-ids", "echo"),
          multicastEchoLabelled: ratio("echo-multicast", "echo-labelled"),
          cordonMulticast: ratio("cordon", "echo-multicast"),
          cordonMulticastCordon: ratio("cordon-multicast", "cordon"),
          cordonMulticastEchoLabelled: ratio("cordon-multicast", "echo-labelled"),
          cordonMulticastEchoIds: ratio("cordon-multicast", "echo-ids"),
        };
        results[kind][n] = cell;
        if (cell.cordon?.redis)
          process.stderr.write(
            `${kind} N=${n} redis (median of runs): ${JSON.stringify(cell.cordon.redis)}\n`,
          );
        process.stderr.write(
          `${kind} N=${n} M=${m}: ${opts.modes.map((mode) => `${mode} ${cell[mode].perSecond}/s [${cell[mode].runs.join(", ")}]${cell[mode].cpuUsPerDelivery !== null ? ` ${cell[mode].cpuUsPerDelivery} µs cpu/delivery` : ""} server ${cell[mode].serverCpuUsPerDelivery} µs${cell[mode].serverInstructionsPerDelivery ? ` ${cell[mode].serverInstructionsPerDelivery} instr` : ""} ${cell[mode].bytesPerDelivery} B`).join("; ")}\n`,
        );
      }
    } finally {
      debug("stopping");
      for (const c of clients) c.close();
      await Promise.all(Object.values(children).map((c) => c.stop()));
      await server.stop();
    }
  }
  await redisInfo?.close();
  await redis?.stop();

  // The table.
  const rows = [
    [
      "server",
      "N×M",
      "cordon/s",
      "echo/s",
      "native/s",
      "cordon/echo",
      "cordon/native",
      "µs cpu cordon",
      "µs cpu echo",
      "µs srv cordon",
      "µs srv echo",
      "B/dlv cordon",
      "B/dlv echo",
      "echo-ids/s",
      "echo-lab/s",
      "echo-mcast/s",
      "µs srv mcast",
      "µs srv echo-lab",
      "cordon-mc/s",
      "µs cpu cordon-mc",
      "µs srv cordon-mc",
    ],
  ];
  for (const [kind, cells] of Object.entries(results)) {
    for (const cell of Object.values(cells)) {
      rows.push(
        [
          kind,
          `${cell.occupants}×${cell.messages}`,
          cell.cordon?.perSecond ?? "-",
          cell.echo?.perSecond ?? "-",
          cell.native?.perSecond ?? "-",
          cell.ratios.cordonEcho ?? "-",
          cell.ratios.cordonNative ?? "-",
          cell.cordon?.cpuUsPerDelivery ?? "-",
          cell.echo?.cpuUsPerDelivery ?? "-",
          cell.cordon?.serverCpuUsPerDelivery ?? "-",
          cell.echo?.serverCpuUsPerDelivery ?? "-",
          cell.cordon?.bytesPerDelivery ?? "-",
          cell.echo?.bytesPerDelivery ?? "-",
          cell["echo-ids"]?.perSecond ?? "-",
          cell["echo-labelled"]?.perSecond ?? "-",
          cell["echo-multicast"]?.perSecond ?? "-",
          cell["echo-multicast"]?.serverCpuUsPerDelivery ?? "-",
          cell["echo-labelled"]?.serverCpuUsPerDelivery ?? "-",
          cell["cordon-multicast"]?.perSecond ?? "-",
          cell["cordon-multicast"]?.cpuUsPerDelivery ?? "-",
          cell["cordon-multicast"]?.serverCpuUsPerDelivery ?? "-",
        ].map(String),
      );
    }
  }
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  process.stderr.write(
    `\n${rows.map((r) => r.map((x, k) => x.padStart(widths[k])).join("  ")).join("\n")}\n`,
  );
  const goal = {};
  for (const [kind, cells] of Object.entries(results)) {
    for (const cell of Object.values(cells)) {
      if (cell.occupants >= 50 && cell.ratios.cordonEcho !== null)
        goal[`${kind}-${cell.occupants}`] = cell.ratios.cordonEcho >= 0.9;
    }
  }
  console.log(
    JSON.stringify({
      bench: "muc",
      runsPerCell: opts.runs,
      clientTransport: opts.transport === "tls" ? "STARTTLS (as in docs/performance.md §1)" : "plain TCP",
      statistic: "median",
      store: opts.store,
      unit: "deliveries per second; cpuUsPerDelivery = component child CPU (user+system) µs per delivery; serverCpuUsPerDelivery = the XMPP server process's CPU µs per delivery",
      mixedClearances:
        "cordon: a third of the occupants are not cleared for 2 of the 4 labels; only entitled deliveries count",
      results,
      goalCordonAtLeast09xEcho: goal,
      leaks,
      failedRuns: failures,
      durationSeconds: Math.round((performance.now() - started) / 1000),
    }),
  );
}

if (process.argv[2] === "--child") {
  await runChild(process.argv[3]);
} else {
  await main();
  process.exit(0);
}
