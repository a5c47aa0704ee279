// Differential run of two code bases' relay decisions (issue 19 goal 4: a faster `decide` and
// audit writer must decide, audit and send exactly what the former code did):
//
//   node bench/relay-differential.mjs --baseline DIR [--n 30000] [--seed 19]
//
// DIR: a built checkout of the commit to compare with. Both trees load in this one process and
// judge the same stanzas — the bench's mix (bench/relay-decide.mjs) and N random ones, in both
// directions: listed words, plurals and stems, look-alikes, full-width, invisible characters,
// accents, entities, XHTML-IM, labels valid / invalid / of either policy / doubled / nested /
// inconsistent, chat states, receipts, OOB, vCards, presences, IQ requests and answers (to
// requests that crossed and not), errors, prefixed names, forwarded stanzas, malformed ids and
// addresses — under a fixed clock and one audit key. Every decision, audit entry and stanza sent
// must be the same (the relay's IQ ids aside: random per request), and the two audit logs byte for
// byte identical. Exits 1 at the first difference. Last line: one JSON object (outcome counts).
import { Buffer } from "node:buffer";
import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    n: { type: "string", default: "30000" },
    seed: { type: "string", default: "19" },
  },
});
if (!args.baseline) throw new Error("--baseline DIR is required");
const N = Number(args.n);

// One clock for both trees' audit timestamps.
const FIXED = Date.UTC(2026, 11, 5, 12, 0, 0);
Date.now = () => FIXED;
// One random stream, the same for both trees (each stanza is decided by both trees from the same
// state): the relay's IQ ids (stanza-id.ts, drawn in 4 KiB blocks) are then the same in both, so
// the stanzas sent, the answers to them and the audit logs compare byte for byte.
let randomState = 0x1919;
crypto.randomBytes = (n, callback) => {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    randomState = (Math.imul(randomState, 1103515245) + 12345) >>> 0;
    out[i] = randomState >>> 24;
  }
  if (callback) return void callback(null, out);
  return out;
};
syncBuiltinESMExports();

const bench = readFileSync(resolve(root, "bench/relay-decide.mjs"), "utf8");
const defs =
  bench.slice(bench.indexOf("const TLPX"), bench.indexOf("async function load(")) +
  bench.slice(bench.indexOf("function peering()"), bench.indexOf("const KINDS"));
const { mix, peering, clearance, label, TLPX, TLP } = new Function(
  `${defs}; return { mix, peering, clearance, label, TLPX, TLP };`,
)();

async function load(tree) {
  const mod = (p) => import(pathToFileURL(resolve(tree, "packages", p)).href);
  const [relay, component, policy, store, rules] = await Promise.all([
    mod("relay/dist/src/index.js"),
    mod("component/dist/src/index.js"),
    mod("policy/dist/src/index.js"),
    mod("store/dist/src/index.js"),
    mod("rules/dist/src/index.js"),
  ]);
  const registry = new policy.PolicyRegistry();
  for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
    registry.loadString(readFileSync(resolve(root, "test/conformance", f), "utf8"));
  const s = new store.MemoryStore();
  // Users 0–4 cleared for everything, 5 for less, 6 for nothing; user 7 has no clearance.
  for (let u = 0; u < 7; u++)
    await s.setUserClearance(`user${u}@ba.test`, {
      encoding: "xml",
      data: clearance(TLPX, u < 5 ? [10, 11, 12, 13] : u === 5 ? [10] : [13]),
    });
  for (let u = 0; u < 5; u++)
    await s.setUserClearance(`peer${u}@bb.test`, {
      encoding: "xml",
      data: clearance(TLP, u < 4 ? [10, 11, 12] : [10]),
    });
  await s.setServiceClearance("ba.test", { encoding: "xml", data: clearance(TLPX, [10, 11]) });
  await s.setServiceClearance("bb.test", { encoding: "xml", data: clearance(TLP, [10, 11, 12]) });
  const engine = new relay.LabelEngine(registry);
  const clearances = new relay.ClearanceSource(new rules.ClearanceReader({ registry, store: s }), engine);
  const p = peering();
  p.outbound = relay.defaultRules({ ...p.outbound, fileTransfer: { oob: "strip" } });
  p.inbound = relay.defaultRules(p.inbound);
  const dirs = relay.directionsOf(p);
  const iqs = new relay.IqTracker({ perSender: 1000 });
  const deps = { engine, clearances, iqs };
  const key = relay.auditKey("d".repeat(64));
  return {
    tree,
    relay,
    component,
    deps,
    outbound: new relay.DirectionContext(dirs.outbound, engine),
    inbound: new relay.DirectionContext(dirs.inbound, engine),
    audit: new relay.MemoryAuditSink(true, key),
    serialise: component.serialise ?? ((e) => e.toString()),
  };
}

/** mulberry32: the same stanzas for both trees. */
function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(Number(args.seed));
const pick = (xs) => xs[Math.floor(next() * xs.length)];
const chance = (p) => next() < p;

const WORDS = [
  "hello",
  "excalibur",
  "Excaliburs",
  "EXCALIBURES",
  "excaliburx",
  "operation",
  "dawn",
  "Operation-Dawn",
  "sword",
  "swordfish",
  "swords",
  "draft",
  "drafts",
  "draftsman",
  "\u0435\u0445\u0441\u0430libur",
  "exca\u0142ibur",
  "\uFF45\uFF58\uFF43alibur",
  "ex\u200Bcalibur",
  "e\u0301xcalibur",
  "caf\u00e9",
  "Stra\u00dfe",
  "\u03a7\u0391\u039f\u03a3",
  "\u6a5f\u5bc6",
  "&amp;",
  "&lt;b&gt;",
  "1&#x27;2",
  "\ud83d\ude00",
  "na\u00efve",
  "\u2014",
  "4B",
  "\u0395\u03a7C\u0391L\u0399\u0392UR", // Greek capitals that look like EXCALIBUR
  "\u0405WORD", // Cyrillic capital dze
  "\u0501raft", // Cyrillic komi de
  "DRAFT*",
  "E\u03a7CALIBUR", // Greek capital chi: a look-alike only in its capital reading
];
const text = () => {
  let s = "";
  const n = Math.floor(next() * 8);
  for (let i = 0; i < n; i++) s += pick(WORDS) + pick([" ", " ", ", ", "-", "", ".", "\n", "_"]);
  return s;
};
const SEC = "urn:xmpp:sec-label:0";
const labelXml = () => {
  const policy = chance(0.8) ? TLPX : TLP;
  const r = next();
  if (r < 0.08) return `<securitylabel xmlns='${SEC}'><label><junk/></label></securitylabel>`;
  const lab = label(policy, pick([10, 11, 12, 13, 99]), chance(0.4) ? [Math.floor(next() * 3)] : []);
  const eq = chance(0.1) ? `<equivalentlabel>${label(TLP, pick([10, 11]))}</equivalentlabel>` : "";
  return `<securitylabel xmlns='${SEC}'>${chance(0.7) ? "<displaymarking>x</displaymarking>" : ""}<label>${lab}</label>${eq}</securitylabel>`;
};
const addr = (side, full) => {
  const domain = side === "a" ? "ba.test" : "bb.test";
  const r = next();
  if (r < 0.01) return "";
  if (r < 0.02) return "not a jid@@";
  if (r < 0.05) return domain;
  if (r < 0.06) return side === "a" ? "x@elsewhere.test" : "y@ba.test";
  const local = side === "a" ? `user${Math.floor(next() * 8)}` : `peer${Math.floor(next() * 5)}`;
  return `${local}@${domain}${full && chance(0.7) ? `/${pick(["res0", "res1", "excalibur", "caf\u00e9"])}` : ""}`;
};
const id = () =>
  chance(0.15)
    ? ""
    : ` id='${chance(0.9) ? "m" : pick(["abc-def", "a b", "excalibur", "x".repeat(130), "\u00e9t\u00e9"])}${Math.floor(next() * 1e6)}'`;

function message(outbound) {
  const [f, t] = outbound ? ["a", "b"] : ["b", "a"];
  const type = pick(["chat", "chat", "normal", "groupchat", "headline", "error", "bogus", ""]);
  let children = "";
  if (chance(0.9))
    children += `<body${chance(0.1) ? " xml:lang='en'" : ""}>${text()}${chance(0.1) ? "<b>x</b>alibur" : ""}</body>`;
  if (chance(0.1)) children += `<subject>${text()}</subject>`;
  if (chance(0.3)) children += `<active xmlns='http://jabber.org/protocol/chatstates'/>`;
  if (chance(0.2)) children += `<request xmlns='urn:xmpp:receipts'/>`;
  if (chance(0.1))
    children += `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>${text()}</p></body></html>`;
  if (chance(0.05)) children += `<x xmlns='jabber:x:oob'><url>https://e.test/${text().length}</url></x>`;
  if (chance(0.03)) children += `<excalibur xmlns='urn:x'/>`;
  if (chance(0.03)) children += `<forwarded xmlns='urn:xmpp:forward:0'/>`;
  if (chance(0.02)) children += `<x:body xmlns:x='jabber:client'>${text()}</x:body>`;
  if (chance(0.03)) children += `<x xmlns='urn:y'>${labelXml()}</x>`;
  if (type === "error")
    children += `<error type='${pick(["cancel", "modify", "weird"])}'><${pick(["item-not-found", "bogus"])} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`;
  const labels = chance(0.6) ? labelXml() + (chance(0.05) ? labelXml() : "") : "";
  return `<message${type ? ` type='${type}'` : ""} from='${addr(f, true)}' to='${addr(t, true)}'${id()}${chance(0.05) ? " xml:lang='en-GB'" : ""}>${children}${labels}</message>`;
}

function presence(outbound) {
  const [f, t] = outbound ? ["a", "b"] : ["b", "a"];
  const type = pick(["", "", "", "unavailable", "subscribe", "probe", "error", "bogus"]);
  let children = "";
  if (chance(0.5)) children += `<show>${pick(["away", "dnd", "bogus"])}</show>`;
  if (chance(0.6)) children += `<status>${text()}</status>`;
  if (chance(0.3)) children += `<priority>${pick(["5", "-1", "x"])}</priority>`;
  if (chance(0.3))
    children += `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://c.test' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>`;
  if (chance(0.2)) children += `<nick xmlns='http://jabber.org/protocol/nick'>${text()}</nick>`;
  if (chance(0.05)) children += labelXml();
  if (type === "error")
    children += `<error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>`;
  return `<presence${type ? ` type='${type}'` : ""} from='${addr(f, true)}' to='${addr(t, false)}'${id()}>${children}</presence>`;
}

const sent = []; // IQ requests that crossed, for answers: [from, to, the relay's id, outbound]
function iq(outbound) {
  const [f, t] = outbound ? ["a", "b"] : ["b", "a"];
  if (chance(0.3) && sent.length > 0) {
    const [rf, rt, rid, ro] = sent.splice(Math.floor(next() * sent.length), 1)[0];
    const ok = chance(0.8);
    const payload = ok
      ? pick(["<ping xmlns='urn:xmpp:ping'/>", "", "<query xmlns='urn:other'/>"])
      : "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>";
    return {
      outbound: !ro,
      xml: `<iq type='${ok ? "result" : "error"}' from='${chance(0.9) ? rt : rf}' to='${rf}' id='${rid}'>${payload}</iq>`,
    };
  }
  const type = pick(["get", "get", "set", "result", "bogus"]);
  const payload = pick([
    "<ping xmlns='urn:xmpp:ping'/>",
    "<query xmlns='http://jabber.org/protocol/disco#info'/>",
    `<vCard xmlns='vcard-temp'><FN>${text()}</FN><PHOTO><BINVAL>AAAA</BINVAL></PHOTO></vCard>`,
    "<query xmlns='urn:unknown'/>",
    "<ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/>",
    "",
  ]);
  return {
    outbound,
    xml: `<iq type='${type}' from='${addr(f, true)}' to='${addr(t, true)}'${id() || " id='q'"}>${payload}${chance(0.1) ? labelXml() : ""}</iq>`,
  };
}

const trees = [await load(resolve(args.baseline)), await load(root)];
const counts = {};
const TOTAL = 300 + N;
const bench300 = mix(300);
let auditLines = 0;
for (let i = 0; i < TOTAL; i++) {
  // The bench's mix first, then random stanzas (answers to requests that crossed among them).
  let outbound = true;
  let xml;
  if (i < 300) xml = bench300[i];
  else {
    outbound = chance(0.6);
    const r = next();
    if (r < 0.55) xml = message(outbound);
    else if (r < 0.8) xml = presence(outbound);
    else ({ outbound, xml } = iq(outbound));
  }
  const results = [];
  const state = randomState;
  let after;
  for (const t of trees) {
    randomState = state;
    let el;
    try {
      el = t.component.parseElement(xml);
    } catch {
      results.push({ unparsed: true });
      continue;
    }
    const d = await t.relay.decide(el, outbound ? t.outbound : t.inbound, t.deps);
    t.audit.append(d.audit);
    results.push({
      action: d.action,
      audit: JSON.stringify(d.audit),
      out: d.action === "pass" ? t.serialise(d.stanza) : undefined,
      relayId: d.action === "pass" && el.name === "iq" ? d.stanza.attrs.id : undefined,
    });
    if (after !== undefined && after !== randomState)
      throw new Error("the trees drew different random bytes");
    after = randomState;
  }
  const [a, b] = results.map((r) => JSON.stringify(r));
  if (a !== b) {
    console.error(`stanza ${i} differs:\n${xml}\nbefore ${a}\nafter  ${b}`);
    process.exit(1);
  }
  const r = results[0];
  if (r.unparsed) continue;
  auditLines++;
  const reason = JSON.parse(r.audit).reason;
  const kind = `${r.action}:${reason}`;
  counts[kind] = (counts[kind] ?? 0) + 1;
  if (r.action === "pass") {
    const name = xml.slice(1, xml.indexOf(" "));
    counts[`pass ${name}`] = (counts[`pass ${name}`] ?? 0) + 1;
  }
  if (r.action === "pass" && /^<iq type='(get|set)'/.test(xml)) {
    const el = trees[0].component.parseElement(xml);
    sent.push([el.attrs.from, el.attrs.to, r.relayId, outbound]);
  }
}
const logs = trees.map((t) => t.audit.text());
if (logs[0] !== logs[1]) {
  const a = logs[0].split("\n");
  const b = logs[1].split("\n");
  const k = a.findIndex((line, j) => line !== b[j]);
  console.error(`audit logs differ at line ${k + 1}:\n${a[k]}\n${b[k]}`);
  process.exit(1);
}
for (const t of trees) {
  const v = t.relay.verifyAuditText(logs[0], t.audit.key);
  if (!v.ok) throw new Error(`${t.tree}: the log does not verify: ${v.problem}`);
}
console.log(
  JSON.stringify({
    stanzas: TOTAL,
    auditLines,
    identical: true,
    auditBytes: logs[0].length,
    outcomes: counts,
  }),
);
