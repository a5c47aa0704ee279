// In process: the CPU of Cordon's MUC fan-out per delivery, without the network — a labelled
// groupchat message into a room of N occupants through onGroupchat (the message gate, the
// per-occupant delivery decision, rendering) and the component's send path (the checks on every
// copy, the bounded outgoing queue, batching into socket writes), into a socket stand-in that
// only counts. Deterministic enough to compare two builds side by side on a noisy machine
// (issue 19 goal 1: Cordon's CPU per delivery ≤ 5 µs; bench/muc.mjs measures it end to end).
//
//   node bench/muc-fanout.mjs [--sizes 50,100] [--messages 4000] [--rounds 5] [--root DIR ...]
//                             [--locations]
//
// Each --root is a built checkout (default: this one), measured in turn in its own child process,
// rounds interleaved; prints the median µs of CPU (user + system) per delivery per root and size.
// --locations: each root also with the guard's client locations configured (issue 17: every
// occupant located at a site cleared for everything, so the same copies go out and the difference
// is the location check per delivery: packages/muc/src/security/occupant-location.ts).
// Occupants as in bench/muc.mjs: a third cleared only for UNCLASSIFIED..CONFIDENTIAL and GBR, half
// of them label-aware; the four labels cycled. The last line of stdout is JSON.
import { fork } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { setImmediate } from "node:timers";

const here = fileURLToPath(import.meta.url);
const ALL_CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const CLEARANCES = {
  full: { classes: ALL_CLASSES, categories: ["ALPHA", "BRAVO", "GBR", "USA", "FRA"] },
  limited: { classes: ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"], categories: ["GBR"] },
};
const LABELS = [
  { classification: "UNCLASSIFIED", categories: [] },
  { classification: "SECRET", categories: [] },
  { classification: "SECRET", categories: ["ALPHA"] },
  { classification: "CONFIDENTIAL", categories: ["GBR", "USA"] },
];
const FILLER = "the quick brown fox jumps over the lazy dog";

async function child(root, n, messages, located) {
  const imp = (p) => import(resolve(root, p));
  const { parseElement, createOutgoingQueue, silentLogger } = await imp(
    "packages/component/dist/src/index.js",
  );
  const { createSender } = await imp("packages/component/dist/src/send.js");
  const { makeLabel, makeClearance, buildSecurityLabelXml } = await imp("packages/policy/dist/src/index.js");
  const { capturingContext, loadDemoPolicy } = await imp("packages/muc/dist/test/muc-test-context.js");
  const { Room } = await imp("packages/muc/dist/src/room/room.js");
  const { DEFAULT_ROOM_CONFIG } = await imp("packages/muc/dist/src/room/room-config.js");
  const { onGroupchat } = await imp("packages/muc/dist/src/service/groupchat.js");
  const { registry, policy } = loadDemoPolicy();
  const cls = (name) => policy.classifications.find((c) => c.name === name);
  const cat = (name) => policy.categories.find((c) => c.name === name);
  const clearance = (k) =>
    makeClearance(policy, CLEARANCES[k].classes.map(cls), CLEARANCES[k].categories.map(cat));
  const unclassified = makeLabel(policy, cls("UNCLASSIFIED"), []);
  const sites = {
    locations: [
      { ranges: ["10.1.0.0/16"], clearance: clearance("full") },
      { ranges: ["10.9.0.0/16"], clearance: clearance("limited") },
    ],
  };
  const ctx = capturingContext(
    registry,
    policy,
    {
      domain: "rooms.example.test",
      defaultRoomLabel: unclassified,
      defaultMessageLabel: unclassified,
      serviceClearance: clearance("full"),
    },
    ...(located ? [{ locations: sites, sessionAddress: async () => "10.1.0.7" }] : []),
  );
  // The real send path into a socket that accepts everything (write callbacks as a socket's: later).
  let bytes = 0;
  const queue = createOutgoingQueue({ domain: "rooms.example.test" });
  queue.attach({
    write(data, callback) {
      bytes += data.length;
      setImmediate(callback);
      return true;
    },
    once() {},
    removeListener() {},
  });
  const sender = createSender({
    domain: "rooms.example.test",
    queue,
    onQueued() {},
    limits: { maxStanzaBytes: 262_144 },
    onOversize() {},
    logger: silentLogger(),
  });
  ctx.send = (stanzas) => sender.sendRaw(stanzas);
  ctx.sendCopies = (copies) => sender.sendCopies(copies); // since issue 19 (the fan-out path)
  const roomJid = "r1@rooms.example.test";
  const room = new Room(
    roomJid,
    { ...DEFAULT_ROOM_CONFIG, historyLength: 20 },
    { label: unclassified, clearance: clearance("full"), defaultLabel: undefined, raw: {} },
  );
  const people = Array.from({ length: n }, (_, i) => ({
    nick: `n${i}`,
    jid: `b${i}@bench.test/bench`,
    bare: `b${i}@bench.test`,
    role: "participant",
    affiliation: "none",
    occupantId: `oid${i}`.padEnd(22, "x"),
    clearance: { status: "known", clearance: clearance(i % 3 === 2 ? "limited" : "full") },
    labelAware: i % 2 === 0,
    presenceXml: "",
    joinedAt: 0,
  }));
  if (located) for (const p of people) p.location = await ctx.locations.locate(p.jid, ctx.sessionAddress);
  for (const p of people) room.add(p);
  const labelXml = LABELS.map((l) =>
    buildSecurityLabelXml(makeLabel(policy, cls(l.classification), l.categories.map(cat))),
  );
  const stanza = (j) =>
    parseElement(
      `<message from="${people[0].jid}" to="${roomJid}" type="groupchat" id="m-${j}"><body>#BM${j % 4}.${j} ${FILLER}</body>${labelXml[j % 4]}</message>`,
    );
  let delivered = 0;
  const one = async (j) => {
    const before = ctx.sent.length;
    await onGroupchat(ctx, room, people[0], stanza(j));
    delivered += ctx.sent.length - before;
  };
  // ctx.sent is the capture array of the test context: unused here (ctx.send replaced); count by bytes.
  const run = async (m) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const b0 = bytes;
    for (let j = 0; j < m; j++) await one(j);
    await new Promise((r) => setImmediate(r));
    const c = process.cpuUsage(c0);
    return { cpu: c.user + c.system, wall: (performance.now() - t0) * 1000, bytes: bytes - b0 };
  };
  await run(Math.min(messages, 500)); // warm-up
  // Deliveries per message: entitled occupants, counted once (the checks decide per occupant).
  const entitled = LABELS.map((_, li) => people.filter((p, i) => li === 0 || li === 3 || i % 3 !== 2).length);
  const perRun = Array.from({ length: messages }, (_, j) => entitled[j % 4]).reduce((a, b) => a + b, 0);
  const r = await run(messages);
  void delivered;
  return {
    cpuUsPerDelivery: r.cpu / perRun,
    wallUsPerDelivery: r.wall / perRun,
    bytesPerDelivery: r.bytes / perRun,
  };
}

function parse(argv) {
  const o = { sizes: [50, 100], messages: 4000, rounds: 5, roots: [], locations: false };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i];
    if (argv[i] === "--sizes") o.sizes = v().split(",").map(Number);
    else if (argv[i] === "--messages") o.messages = Number(v());
    else if (argv[i] === "--rounds") o.rounds = Number(v());
    else if (argv[i] === "--root") o.roots.push(resolve(v()));
    else if (argv[i] === "--locations") o.locations = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (o.roots.length === 0) o.roots.push(resolve(dirname(here), ".."));
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (process.argv[2] === "--child") {
  const [root, n, m] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
  const result = await child(root, n, m, process.argv[6] === "located");
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result));
  process.exit(0);
} else {
  const o = parse(process.argv.slice(2));
  const results = {};
  const variants = o.roots.flatMap((root) =>
    o.locations ? [{ root }, { root, located: true }] : [{ root }],
  );
  const name = (v) => `${v.root}${v.located ? " +locations" : ""}`;
  for (const n of o.sizes) {
    for (const v of variants) results[`${name(v)} N=${n}`] = [];
    for (let r = 0; r < o.rounds; r++) {
      for (const v of r % 2 ? [...variants].reverse() : variants) {
        const res = await new Promise((ok, fail) => {
          const args = ["--child", v.root, String(n), String(o.messages), ...(v.located ? ["located"] : [])];
          const c = fork(here, args, { stdio: "inherit" });
          c.once("message", ok);
          c.once("exit", (code) => code && fail(new Error(`child exited ${code}`)));
        });
        results[`${name(v)} N=${n}`].push(res);
      }
    }
  }
  const summary = {};
  for (const [k, runs] of Object.entries(results)) {
    summary[k] = {
      cpuUsPerDelivery: Number(median(runs.map((x) => x.cpuUsPerDelivery)).toFixed(3)),
      wallUsPerDelivery: Number(median(runs.map((x) => x.wallUsPerDelivery)).toFixed(3)),
      bytesPerDelivery: Math.round(median(runs.map((x) => x.bytesPerDelivery))),
      runs: runs.map((x) => Number(x.cpuUsPerDelivery.toFixed(3))),
    };
    process.stderr.write(
      `${k}: ${summary[k].cpuUsPerDelivery} µs cpu / delivery [${summary[k].runs.join(", ")}], ${summary[k].bytesPerDelivery} B\n`,
    );
  }
  console.log(
    JSON.stringify({ bench: "muc-fanout", messages: o.messages, rounds: o.rounds, results: summary }),
  );
}
