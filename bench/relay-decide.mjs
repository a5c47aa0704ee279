// The relay's own CPU per checked stanza, in process, for a realistic mix (labelled chat,
// unlabelled chat under the default label, presence, IQ requests), split by stage, and ESS label
// parse+validate per second (from base64, no cache). Issue 19 goal 4: ≤ 5 µs per checked stanza,
// ≥ 500,000 ESS parse+validate per second.
//
//   node bench/relay-decide.mjs [--baseline DIR] [--rounds N] [--ms MS]
//
// With --baseline (a checkout of an older commit, built: `git worktree add DIR COMMIT && cd DIR &&
// npm install && npx turbo run build`) both code bases run in this one process, rounds alternating,
// so the machine's load falls on both alike; the median round of each counts. Every figure is CPU
// time of this thread (process.cpuUsage, user + system) per stanza. Last line: one JSON object.
//
// Stages (each timed on its own over the same mix, the same calls decide makes):
//   label       the stanza's effective label: hidden-content walk, <securitylabel/> lookup (cached reading)
//   clearances  direction, sender and recipient clearances looked up and each ACDF (translated)
//   folding     the relay's copy, file-transfer check, text flattening and message/presence folding
//   content     the texts the word lists read, and the lists matched
//   outgoing    the policy's <securitylabel/> and marking for the receiving side
//   audit       one audit record chained (canonical JSON, HMAC-SHA256), as FileAuditSink.append does
//   hmac        of which the record's HMAC-SHA256 alone, as this tree's writer computes it (keyedHash
//               where the tree has it, else createHmac): `total − hmac` is the cost without it
//   serialise   the decided stanza written as XML as the component link writes it (send.ts:
//               `serialise` where the tree has it, else ltx's toString)
//   decide      the whole decision (decide()), every stage above but audit and serialise
//   total       decide + audit + serialise: the relay's CPU per checked stanza
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    rounds: { type: "string", default: "7" },
    ms: { type: "string", default: "400" },
    stages: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const MS = Number(args.ms);
const corpus = resolve(root, "test/conformance");
const TLPX = "1.3.6.1.4.1.99999.2.2";
const TLP = "1.3.6.1.4.1.99999.2.3";
const SPIFFY = "http://surevine.com/xmlns/spiffy";

const label = (p, lacv, cats = []) =>
  `<label xmlns='${SPIFFY}'><policy id='${p}'/><classification lacv='${lacv}'/>${cats.map((c) => `<tag type='permissive' id='${p}.1' lacv='${c}'/>`).join("")}</label>`;
const clearance = (p, lacvs) =>
  `<clearance xmlns='${SPIFFY}'><policy id='${p}'/>${lacvs.map((l) => `<classification lacv='${l}'/>`).join("")}${(p === TLP ? [0, 1] : [0, 1, 2]).map((c) => `<tag type='permissive' id='${p}.1' lacv='${c}'/>`).join("")}</clearance>`;

async function load(tree) {
  const mod = (p) => import(pathToFileURL(resolve(tree, "packages", p)).href);
  const [relay, component, policy, store, rules, content, folding, fileTransfer, presence, iq, copy, audit] =
    await Promise.all([
      mod("relay/dist/src/index.js"),
      mod("component/dist/src/index.js"),
      mod("policy/dist/src/index.js"),
      mod("store/dist/src/index.js"),
      mod("rules/dist/src/index.js"),
      mod("relay/dist/src/content-check.js"),
      mod("relay/dist/src/folding.js"),
      mod("relay/dist/src/file-transfer.js"),
      mod("relay/dist/src/presence-folding.js"),
      mod("relay/dist/src/iq-control.js"),
      mod("relay/dist/src/copy.js"),
      mod("relay/dist/src/audit.js"),
    ]);
  return {
    tree,
    relay,
    component,
    policy,
    store,
    rules,
    content,
    folding,
    fileTransfer,
    presence,
    iq,
    copy,
    audit,
  };
}

function peering() {
  const rules = {
    unlabelled: { message: "default", presence: "default", iq: "default" },
    chatStates: "strip",
    receipts: "strip",
    elements: [{ ns: "http://jabber.org/protocol/xhtml-im", action: "strip" }],
    content: [
      { words: ["excalibur", "operation dawn", "sword"] },
      { words: ["draft"], classifications: ["RED"] },
    ],
    presence: { mode: "fold", keep: ["show", "status", "priority", "caps", "nick"] },
  };
  const side = (domain, policy) => ({
    service: "xmpp://127.0.0.1:1",
    secret: "s",
    domains: [domain],
    mucDomains: [],
    policy,
    labelAware: true,
    markingLang: "",
  });
  return {
    name: "bench",
    local: side("ba.test", TLPX),
    remote: side("bb.test", TLP),
    outbound: { ...rules, defaultLabel: label(TLPX, 11), clearance: clearance(TLP, [10, 11, 12]) },
    inbound: { ...rules, defaultLabel: label(TLP, 10), clearance: clearance(TLPX, [10, 11, 12]) },
  };
}

/** The mix, as XML text: 4 labelled chat, 2 unlabelled chat, 2 presence, 2 IQ requests in every 10. */
function mix(n) {
  const bodies = [
    "the quick brown fox jumps over the lazy dog",
    "Meeting moved to 15:00, room 4B. Bring the quarterly figures, please.",
    "ok",
    "Ünïcödé text: café, naïve, Straße — and a longer sentence to read through as well.",
  ];
  const out = [];
  for (let i = 0; i < n; i++) {
    const from = `user${i % 7}@ba.test/res${i % 3}`;
    const to = `peer${i % 5}@bb.test`;
    // Every text unique (as in real traffic): no cache of texts can answer for the content check.
    const body = `${bodies[i % bodies.length]} #${i}`;
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        out.push(
          `<message type='chat' from='${from}' to='${to}' id='m${i}'><body>${body}</body>` +
            `<active xmlns='http://jabber.org/protocol/chatstates'/>` +
            `<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>whatever</displaymarking>` +
            `<label>${label(TLPX, 10 + (i % 3), i % 3 === 2 || i % 2 ? [i % 2] : [])}</label></securitylabel></message>`,
        );
        break;
      case 4:
      case 5:
        out.push(
          `<message type='chat' from='${from}' to='${to}' id='u${i}'><body>${body}</body>` +
            `<request xmlns='urn:xmpp:receipts'/></message>`,
        );
        break;
      case 6:
      case 7:
        out.push(
          `<presence from='${from}' to='${to}' id='p${i}'><show>away</show><status>${body}</status>` +
            `<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>` +
            `<x xmlns='vcard-temp:x:update'><photo/></x></presence>`,
        );
        break;
      default:
        out.push(
          i % 20 === 8
            ? `<iq type='get' from='${from}' to='${to}' id='q${i}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`
            : `<iq type='get' from='${from}' to='${to}' id='q${i}'><ping xmlns='urn:xmpp:ping'/></iq>`,
        );
    }
  }
  return out;
}

const KINDS = [
  "labelled",
  "labelled",
  "labelled",
  "labelled",
  "unlabelled",
  "unlabelled",
  "presence",
  "presence",
  "iq",
  "iq",
];

async function setup(m) {
  const { relay, component, policy, store: storeMod, rules } = m;
  const registry = new policy.PolicyRegistry();
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    registry.loadString(readFileSync(resolve(corpus, f), "utf8"));
  const store = new storeMod.MemoryStore();
  for (let u = 0; u < 7; u++)
    await store.setUserClearance(`user${u}@ba.test`, {
      encoding: "xml",
      data: clearance(TLPX, [10, 11, 12, 13]),
    });
  await store.setServiceClearance("ba.test", { encoding: "xml", data: clearance(TLPX, [10, 11]) });
  const engine = new relay.LabelEngine(registry);
  const clearances = new relay.ClearanceSource(new rules.ClearanceReader({ registry, store }), engine);
  const p = peering();
  p.outbound = relay.defaultRules(p.outbound);
  p.inbound = relay.defaultRules(p.inbound);
  const { outbound } = relay.directionsOf(p);
  const ctx = new relay.DirectionContext(outbound, engine);
  const iqs = new relay.IqTracker({ perSender: Number.MAX_SAFE_INTEGER });
  const deps = { engine, clearances, iqs };
  const stanzas = mix(1000).map((x) => component.parseElement(x));
  const audit = new relay.MemoryAuditSink(false);
  // The decisions, once, to check the mix passes, and for the audit and serialise stages.
  const decided = [];
  for (const s of stanzas) {
    const d = await relay.decide(s, ctx, deps);
    if (d.action !== "pass")
      throw new Error(`${m.tree}: bench stanza not relayed: ${JSON.stringify(d.audit)}`);
    decided.push(d);
  }
  return { m, registry, store, engine, clearances, outbound, ctx, deps, stanzas, audit, decided };
}

/** The stages of decide, each on its own, as decide calls them. */
function stages(s) {
  const { m, ctx, deps, engine, clearances, stanzas, decided, audit } = s;
  // An IQ request that crossed is answered (its answer takes it from the tracker), as the peer's
  // server does: the tracker holds what is in flight, not every request ever relayed.
  const answered = (st, d) => {
    if (st.name === "iq" && d.action === "pass")
      deps.iqs.answer(st.attrs.to, st.attrs.from, d.stanza.attrs.id);
  };
  const { relay, content, folding, fileTransfer, presence, copy } = m;
  // The record's HMAC as this tree's writer computes it, over the canonical JSON of the mix's records.
  const hmacOf =
    m.audit.keyedHash ?? ((text, key) => createHmac("sha256", key.secret).update(text).digest("hex"));
  const recorded = new relay.MemoryAuditSink(true, audit.key);
  const hmacInputs = decided.map((x) => {
    const record = { ...recorded.append(x.audit) };
    delete record.hash;
    return relay.canonicalJson(record);
  });
  // As the component link writes a stanza (send.ts): serialise where the tree has it, else toString.
  const serialiseOf = m.component.serialise ?? ((e) => e.toString());
  const d = ctx.direction;
  const accept = [ctx.sending.id, ctx.receiving.id];
  const labelOf = (st) =>
    engine.labels.of(st, {
      accept,
      defaultLabel: d.rules.unlabelled[st.name] === "default" ? ctx.defaultLabel : undefined,
      maxDepth: 64,
    });
  const labels = stanzas.map((st) => labelOf(st).label);
  const received = labels.map((l) => engine.translate(l, ctx.receiving));
  return {
    label: () => {
      for (const st of stanzas) labelOf(st);
    },
    clearances: async () => {
      for (let i = 0; i < stanzas.length; i++) {
        const st = stanzas[i];
        const l = labels[i];
        const dc = clearances.configured(d.rules.clearance);
        engine.refusal(l, dc.clearance);
        const from = st.attrs.from.split("/")[0];
        const sc = await clearances.user(from, ctx.sending.id);
        engine.refusal(l, sc.clearance);
        const to = st.attrs.to;
        for (const p of [ctx.receiving.id, ctx.sending.id]) {
          const rc = await clearances.user(to, p);
          if (rc.status === "known") engine.refusal(l, rc.clearance);
        }
      }
    },
    folding: () => {
      for (const st of stanzas) {
        const out = copy.copyElement(st);
        if (st.name !== "presence") fileTransfer.checkFileTransfer(out, d.rules.fileTransfer);
        if (st.name === "message") {
          content.flattenTexts(out, folding.inStanzaNs);
          folding.foldMessage(out, ctx.folding);
        } else if (st.name === "presence") presence.foldPresence(out, d.rules.presence);
      }
    },
    content: () => {
      for (let i = 0; i < stanzas.length; i++) {
        const out = decided[i].stanza;
        const texts =
          out.name === "message"
            ? content.messageTexts(out)
            : out.name === "presence"
              ? content.presenceTexts(out)
              : m.iq.iqTexts(out);
        texts.push(stanzas[i].attrs.id, "res0", "peer1", "", "");
        ctx.content.check(texts, labels[i].classification.name);
      }
    },
    outgoing: () => {
      for (const r of received) engine.outgoing(r, "");
    },
    audit: () => {
      for (const x of decided) audit.append(x.audit);
    },
    hmac: () => {
      for (const text of hmacInputs) hmacOf(text, audit.key);
    },
    serialise: () => {
      for (const x of decided) serialiseOf(x.stanza);
    },
    decide: async () => {
      for (const st of stanzas) answered(st, await relay.decide(st, ctx, deps));
    },
    // The same, one kind of the mix at a time (each call decides the 1,000 stanzas' worth of that kind, repeated).
    ...Object.fromEntries(
      ["labelled", "unlabelled", "presence", "iq"].map((kind) => {
        const ofKind = stanzas.filter((_, i) => KINDS[i % 10] === kind);
        return [
          `decide:${kind}`,
          async () => {
            for (let r = 0; r < 1000; r += ofKind.length)
              for (const st of ofKind) answered(st, await relay.decide(st, ctx, deps));
          },
        ];
      }),
    ),
  };
}

/** ESS labels from base64, parsed and validated (bench/acdf.mjs's figure) with this tree's policy package. */
function essBatch(m) {
  const { policy } = m;
  const registry = new policy.PolicyRegistry();
  registry.loadString(readFileSync(resolve(corpus, "harbour-policy.xml"), "utf8"));
  const read = (f) => readFileSync(resolve(corpus, f));
  const b64 = [
    "harbour-label-crew-cargo.xml",
    "harbour-label-berths.xml",
    "harbour-label-customs.xml",
    "harbour-label-crew-cargo.ber",
    "harbour-label-all-kinds.ber",
  ].map((f) =>
    Buffer.from(policy.encodeEssLabel(policy.parseLabelData(read(f), registry))).toString("base64"),
  );
  return () => {
    let valid = 0;
    for (let i = 0; i < 1000; i++)
      if (policy.isValidLabel(policy.parseLabelData(b64[i % b64.length], registry))) valid++;
    if (valid === 0) throw new Error("no valid label");
  };
}

/** CPU µs per item of one call of `fn` over `items` items, repeated for `ms` of CPU. */
async function cpuPerItem(fn, items, ms = MS) {
  let n = 0;
  const t0 = process.cpuUsage();
  let used = 0;
  while (used < ms * 1000) {
    await fn();
    n += items;
    const t = process.cpuUsage(t0);
    used = t.user + t.system;
  }
  return used / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const trees = [{ name: "after", dir: root }];
if (args.baseline) trees.unshift({ name: "before", dir: resolve(args.baseline) });
const runs = [];
for (const t of trees) {
  const m = await load(t.dir);
  const s = await setup(m);
  runs.push({ name: t.name, stages: stages(s), ess: essBatch(m), samples: {} });
}
const ALL_STAGES = [
  "label",
  "clearances",
  "folding",
  "content",
  "outgoing",
  "audit",
  "hmac",
  "serialise",
  "decide",
  "decide:labelled",
  "decide:unlabelled",
  "decide:presence",
  "decide:iq",
];
// --stages decide,audit: only those (e.g. under --cpu-prof, to profile one stage).
const STAGES = args.stages ? args.stages.split(",").filter((st) => st !== "ess") : ALL_STAGES;
const WITH_ESS = !args.stages || args.stages.split(",").includes("ess");
// Warm up every path, then alternate: round r runs the trees in turn (order flipped each round).
for (const r of runs) {
  for (const st of STAGES) await cpuPerItem(r.stages[st], 1000, 150);
  if (WITH_ESS) await cpuPerItem(r.ess, 1000, 150);
}
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...runs].reverse() : runs;
  for (const r of order) {
    for (const st of STAGES) (r.samples[st] ??= []).push(await cpuPerItem(r.stages[st], 1000));
    if (WITH_ESS) (r.samples.ess ??= []).push(await cpuPerItem(r.ess, 1000));
  }
}
const result = {
  rounds: ROUNDS,
  msPerSample: MS,
  node: process.version,
  mix: "4 labelled chat, 2 unlabelled chat, 2 presence, 2 IQ get per 10",
};
for (const r of runs) {
  const us = {};
  for (const st of STAGES) us[st] = Number(median(r.samples[st]).toFixed(2));
  if (us.decide !== undefined && us.audit !== undefined && us.serialise !== undefined)
    us.total = Number((us.decide + us.audit + us.serialise).toFixed(2));
  if (us.total !== undefined && us.hmac !== undefined)
    us.totalWithoutHmac = Number((us.total - us.hmac).toFixed(2));
  result[r.name] = {
    microsecondsPerCheckedStanza: us,
    ...(WITH_ESS ? { essParseValidatePerSecond: Math.round(1e6 / median(r.samples.ess)) } : {}),
  };
}
for (const r of runs) {
  const x = result[r.name];
  console.log(
    `${r.name.padEnd(6)} decide ${x.microsecondsPerCheckedStanza.decide} µs (${["labelled", "unlabelled", "presence", "iq"].map((k) => `${k} ${x.microsecondsPerCheckedStanza[`decide:${k}`]}`).join(", ")}), total ${x.microsecondsPerCheckedStanza.total} µs per checked stanza ` +
      `(${STAGES.filter((st) => st !== "decide")
        .map((st) => `${st} ${x.microsecondsPerCheckedStanza[st]}`)
        .join(", ")}); ` +
      `ESS parse+validate ${x.essParseValidatePerSecond?.toLocaleString("en")}/s`,
  );
}
console.log(JSON.stringify(result));
