// Hostile stanzas at the boundary: each test is a way to get content (or a label) across that a
// rule should stop, or to make a decision fail other than cleanly.
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@cordon/store";
import { ClearanceReader } from "@cordon/rules";
import { ClearanceSource } from "../src/clearances.js";
import { decide, DirectionContext, type Decision } from "../src/decide.js";
import { directionsOf } from "../src/direction.js";
import { LabelEngine } from "../src/label-check.js";
import type { DirectionRules } from "../src/peering.js";
import { clearance, el, label, peering, registry, securityLabel, TLP, TLPX } from "./fixtures.js";
import { decodeEssLabel, encodeEssLabel, makeLabel } from "@cordon/policy";
import { IqTracker } from "../src/iq-control.js";

const engine = new LabelEngine(registry());
const store = new MemoryStore();
const clearances = new ClearanceSource(new ClearanceReader({ registry: engine.registry, store }), engine);
const iqs = new IqTracker();

before(async () => {
  await store.setUserClearance("alice@tlpx.test", {
    encoding: "xml",
    data: clearance(TLPX, [10, 11, 12, 13]),
  });
  await store.setServiceClearance("tlpx.test", { encoding: "xml", data: clearance(TLPX, [10, 11]) });
});

async function run(
  stanza: string,
  outbound: Partial<DirectionRules> = {},
  which: "outbound" | "inbound" = "outbound",
  tweak?: (p: ReturnType<typeof peering>) => void,
): Promise<Decision> {
  const p = peering(outbound);
  tweak?.(p);
  return decide(el(stanza), new DirectionContext(directionsOf(p)[which], engine), {
    engine,
    clearances,
    iqs,
  });
}

const FROM = "from='alice@tlpx.test/r' to='bob@tlp.test'";
const WORDS = { content: [{ words: ["excalibur"] }] };
const RED = securityLabel(label(TLPX, 13), "TLPX:RED");

describe("hostile stanzas", () => {
  test("a namespace-prefixed <securitylabel/> is not skipped (it would cross under the default label, forged marking and all)", async () => {
    const d = await run(
      `<message type='chat' ${FROM}><body>red data</body>${RED.replace("<securitylabel xmlns=", "<sl:securitylabel xmlns:sl=").replace("</securitylabel>", "</sl:securitylabel>")}</message>`,
    );
    assert.notEqual(d.action, "pass", d.action === "pass" ? d.stanza.toString() : "");
    assert.equal(d.audit.reason, "prefixed-name");
  });

  test("a prefixed IQ payload does not pass as the namespace of its xmlns attribute", async () => {
    // Namespaces in XML: x:data is in urn:example:exfil; the default xmlns does not apply to it.
    const d = await run(
      `<iq type='set' id='px1' from='alice@tlpx.test/r' to='bob@tlp.test/r'><x:data xmlns:x='urn:example:exfil' xmlns='urn:xmpp:ping'>plans</x:data></iq>`,
    );
    assert.deepEqual([d.action, d.audit.reason], ["refuse", "prefixed-name"]);
  });

  test("a prefixed <body/> or <forwarded/> does not escape the word lists and the nested-stanza rule", async () => {
    const body = await run(
      `<message type='chat' ${FROM}><c:body xmlns:c='jabber:client'>excalibur</c:body></message>`,
      WORDS,
    );
    assert.notEqual(body.action, "pass");
    const fwd = await run(
      `<message type='chat' ${FROM}><body>x</body><f:forwarded xmlns:f='urn:xmpp:forward:0'><m:message xmlns:m='jabber:client'><m:body>excalibur</m:body></m:message></f:forwarded></message>`,
    );
    assert.notEqual(fwd.action, "pass");
  });

  test("deep nesting is refused cleanly (no stack overflow, nothing that cannot be serialised passes)", async () => {
    for (const n of [5_000, 50_000]) {
      const d = await run(
        `<message type='chat' ${FROM}><body>x</body>${"<a xmlns='urn:example'>".repeat(n)}${"</a>".repeat(n)}</message>`,
      );
      assert.deepEqual([d.action, d.audit.reason], ["refuse", "too-deep"], `depth ${n}`);
    }
  });

  test("an error crosses with a defined condition and type only (no sender-chosen element names)", async () => {
    const d = await run(
      `<message type='error' id='e1' ${FROM}><error type='the-plans'><excalibur-is-in-the-vault xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
    );
    assert.ok(d.action === "pass", d.audit.reason);
    const text = d.stanza.toString();
    assert.ok(!text.includes("excalibur") && !text.includes("the-plans"), text);
    assert.ok(
      d.stanza.getChild("error")?.getChild("undefined-condition", "urn:ietf:params:xml:ns:xmpp-stanzas"),
    );
    assert.equal(d.stanza.getChild("error")?.attrs.type, "cancel");
  });

  test("stanza attributes beyond RFC 6120's and text beside the children do not cross", async () => {
    const d = await run(
      `<message type='chat' id='m1' xml:lang='en' data='excalibur plans' ${FROM}>excalibur plans<body>hi</body></message>`,
    );
    assert.ok(d.action === "pass", d.audit.reason);
    assert.equal(d.stanza.attrs.data, undefined);
    assert.equal(d.stanza.attrs["xml:lang"], "en");
    const lang = await run(
      `<message type='chat' xml:lang='the excalibur plans' ${FROM}><body>hi</body></message>`,
    );
    assert.ok(lang.action === "pass" && lang.stanza.attrs["xml:lang"] === undefined);
    assert.ok(!d.stanza.toString().includes("plans"), d.stanza.toString());
    const err = await run(
      `<message type='error' id='e2' data='excalibur plans' ${FROM}><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
    );
    assert.ok(err.action === "pass", err.audit.reason);
    assert.ok(!err.stanza.toString().includes("plans"), err.stanza.toString());
  });

  test("a presence that is not an error does not carry an <error/> (and what it holds) past folding", async () => {
    const d = await run(
      `<presence ${FROM}><show>away</show><error type='cancel'><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>excalibur</text><data xmlns='urn:example'>plans</data></error></presence>`,
    );
    assert.ok(d.action === "pass", d.audit.reason);
    assert.equal(
      d.stanza.toString(),
      '<presence from="alice@tlpx.test/r" to="bob@tlp.test"><show>away</show></presence>',
    );
  });

  test("the word lists read every payload a message carries, not only bodies and subjects", async () => {
    for (const child of [
      "<thread>excalibur</thread>",
      "<x xmlns='jabber:x:conference' jid='room@rooms.tlp.test' reason='the excalibur file'/>",
      "<spoiler xmlns='urn:xmpp:spoiler:0'>excalibur</spoiler>",
      "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@tlp.test'><reason>excalibur</reason></invite></x>",
    ]) {
      const d = await run(`<message type='chat' ${FROM}><body>hi</body>${child}</message>`, WORDS);
      assert.deepEqual([d.action, d.audit.reason], ["refuse", "content-blocked"], child);
    }
  });

  test("the word lists read every part a presence keeps (a nickname in a subscription request)", async () => {
    const d = await run(
      `<presence type='subscribe' ${FROM}><nick xmlns='http://jabber.org/protocol/nick'>Excalibur</nick></presence>`,
      { ...WORDS, presence: { mode: "fold", keep: ["nick"] } },
    );
    assert.deepEqual([d.action, d.audit.reason], ["refuse", "content-blocked"]);
  });

  test("FLOT marks a body written in the component namespace too", async () => {
    const d = await run(
      `<message type='chat' ${FROM}><body xmlns='jabber:component:accept'>hello</body>${securityLabel(label(TLPX, 12, [0]))}</message>`,
      {},
      "outbound",
      (p) => {
        p.remote.labelAware = false;
      },
    );
    assert.ok(d.action === "pass", d.audit.reason);
    assert.match(
      d.stanza
        .getChildren("body")
        .map((b) => b.getText())
        .join("|"),
      /^TLP:AMBER [^|]*\nhello$/,
    );
  });

  test("muc-only: a groupchat message to a user (not a room of a MUC domain) is not MUC traffic", async () => {
    const d = await run(
      "<message type='groupchat' from='alice@tlpx.test/r' to='bob@tlp.test/phone'><body>direct</body></message>",
      { mode: "muc-only" },
    );
    assert.deepEqual([d.action, d.audit.reason], ["refuse", "mode-muc-only"]);
    const room = await run(
      "<message type='groupchat' from='alice@tlpx.test/r' to='ops@rooms.tlp.test'><body>to the room</body></message>",
      { mode: "muc-only" },
    );
    assert.equal(room.action, "pass", room.audit.reason);
    const oneToOne = await run(
      "<message type='groupchat' from='alice@tlpx.test/r' to='bob@tlp.test/phone'><body>direct</body></message>",
      { mode: "one-to-one-only" },
    );
    assert.deepEqual([oneToOne.action, oneToOne.audit.reason], ["refuse", "mode-one-to-one-only"]);
  });

  test("a labelled IQ request is judged on its label (the label is not a second payload)", async () => {
    const d = await run(
      `<iq type='get' id='lq1' from='alice@tlpx.test/r' to='bob@tlp.test/r'><ping xmlns='urn:xmpp:ping'/>${securityLabel(label(TLPX, 12, [0]))}</iq>`,
    );
    assert.ok(d.action === "pass", d.audit.reason);
    assert.equal(
      d.stanza.getChild("securitylabel")?.getChildText("displaymarking"),
      "TLP:AMBER [TO:PARTNERS] (handle with care) (relayed)",
    );
    const red = await run(
      `<iq type='get' id='lq2' from='alice@tlpx.test/r' to='bob@tlp.test/r'><ping xmlns='urn:xmpp:ping'/>${RED}</iq>`,
    );
    assert.deepEqual([red.action, red.audit.reason], ["refuse", "direction-clearance"]);
  });

  test("the audit record holds no sender-chosen text: id, type and detail are bounded tokens", async () => {
    const secret = "excalibur is in the vault";
    const records = [
      await run(`<message type='chat' id='${secret}' ${FROM}><body>hi</body></message>`),
      await run(`<message type='${secret}' ${FROM}><body>hi</body></message>`),
      await run(
        `<iq type='${secret}' id='t' from='alice@tlpx.test/r' to='bob@tlp.test/r'><ping xmlns='urn:xmpp:ping'/></iq>`,
      ),
      await run(
        `<iq type='set' id='t2' from='alice@tlpx.test/r' to='bob@tlp.test/r'><data xmlns='${secret}'/></iq>`,
      ),
    ].map((d) => JSON.stringify(d.audit));
    for (const r of records) assert.ok(!r.includes("excalibur"), r);
    assert.match((JSON.parse(records[0]!) as { id: string }).id, /^[0-9a-f]{16}$/);
  });

  // Class: children that a check skips by name. Fixed: any child named error (any namespace, any
  // stanza type) was skipped by the IQ namespace allow-list and the word lists.
  test("an <error/> beside an allowed IQ payload, or as a result's payload, does not cross", async () => {
    const exfil = "<error xmlns='urn:example:exfil'><data>excalibur</data></error>";
    const req = await run(
      `<iq type='get' id='x1' from='alice@tlpx.test/r' to='bob@tlp.test/r'><ping xmlns='urn:xmpp:ping'/>${exfil}</iq>`,
    );
    assert.deepEqual([req.action, req.audit.reason], ["refuse", "iq-malformed"]);
    const asked = await run(
      "<iq type='get' id='x2' from='bob@tlp.test/r' to='alice@tlpx.test/r'><ping xmlns='urn:xmpp:ping'/></iq>",
      {},
      "inbound",
    );
    assert.ok(asked.action === "pass", asked.audit.reason);
    const result = await run(
      `<iq type='result' id='${asked.stanza.attrs.id}' from='alice@tlpx.test/r' to='bob@tlp.test/r'>${exfil}</iq>`,
    );
    assert.deepEqual([result.action, result.audit.reason], ["drop", "iq-answer-namespace"]);
    const msg = await run(`<message type='chat' ${FROM}><body>hi</body>${exfil}</message>`, WORDS);
    assert.deepEqual([msg.action, msg.audit.reason], ["refuse", "content-blocked"]);
  });

  // Class: stanza attributes that cross. Fixed: the id crossed verbatim and unchecked.
  test("an IQ request crosses under an id of the relay's; its answer goes back under the requester's", async () => {
    const secretId = "excalibur: operation dawn at 0400";
    const req = await run(
      `<iq type='get' id='${secretId}' from='alice@tlpx.test/r' to='bob@tlp.test/r'><ping xmlns='urn:xmpp:ping'/></iq>`,
    );
    assert.ok(req.action === "pass", req.audit.reason);
    const crossed = req.stanza.attrs.id ?? "";
    assert.match(crossed, /^cordon-[A-Za-z0-9_-]{16}$/);
    const answer = await run(
      `<iq type='result' id='${crossed}' from='bob@tlp.test/r' to='alice@tlpx.test/r'/>`,
      {},
      "inbound",
    );
    assert.ok(answer.action === "pass", answer.audit.reason);
    assert.equal(answer.stanza.attrs.id, secretId);
  });

  test("a message, presence or error id crosses only when it looks like an id and passes the word lists", async () => {
    const spaced = await run(
      `<message type='chat' id='excalibur: operation dawn at 0400' ${FROM}><body>hi</body></message>`,
    );
    assert.deepEqual([spaced.action, spaced.audit.reason], ["refuse", "id-malformed"]);
    const long = await run(`<message type='chat' id='${"a".repeat(129)}' ${FROM}><body>hi</body></message>`);
    assert.deepEqual([long.action, long.audit.reason], ["refuse", "id-malformed"]);
    const worded = await run(
      `<message type='chat' id='excalibur-0400' ${FROM}><body>hi</body></message>`,
      WORDS,
    );
    assert.deepEqual([worded.action, worded.audit.reason], ["refuse", "content-blocked"]);
    const presence = await run(`<presence id='excalibur-0400' ${FROM}><show>away</show></presence>`, WORDS);
    assert.deepEqual([presence.action, presence.audit.reason], ["refuse", "content-blocked"]);
    // Errors are not tracked, and not answered: dropped.
    const error = (id: string) =>
      run(
        `<message type='error' id='${id}' ${FROM}><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
        WORDS,
      );
    const errWorded = await error("excalibur-0400");
    assert.deepEqual([errWorded.action, errWorded.audit.reason], ["drop", "content-blocked"]);
    const errSpaced = await error("operation dawn");
    assert.deepEqual([errSpaced.action, errSpaced.audit.reason], ["drop", "id-malformed"]);
    const fine = await run(
      `<message type='chat' id='5f0c2a9e-7d1b-4c3e-9a8f-0b1c2d3e4f50' ${FROM}><body>hi</body></message>`,
      WORDS,
    );
    assert.ok(fine.action === "pass" && fine.stanza.attrs.id === "5f0c2a9e-7d1b-4c3e-9a8f-0b1c2d3e4f50");
  });

  // Class: label bytes. Fixed: a label already in the receiving policy crossed as the sender's bytes,
  // privacy mark (free text) and all.
  test("a label crosses re-encoded from the decided label, without the sender's bytes or privacy mark", async () => {
    const tlp = engine.policy(TLP);
    const green = tlp.classifications.find((c) => c.lacv === 11)!;
    const marked = encodeEssLabel(makeLabel(tlp, green, [], { privacyMark: "excalibur at 0400" }));
    const ess = `<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>X</displaymarking><label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${Buffer.from(marked).toString("base64")}</esssecuritylabel></label></securitylabel>`;
    const d = await run(`<message type='chat' ${FROM}><body>hi</body>${ess}</message>`);
    assert.ok(d.action === "pass", d.audit.reason);
    const out = d.stanza.getChild("securitylabel")?.getChild("label")?.getChildText("esssecuritylabel") ?? "";
    const bytes = Buffer.from(out, "base64");
    assert.ok(!bytes.toString("latin1").includes("excalibur"), "no privacy mark");
    const decoded = decodeEssLabel(bytes, engine.registry);
    assert.deepEqual(
      [decoded.policy.id, decoded.classification.lacv, decoded.privacyMark],
      [TLP, 11, undefined],
    );
    assert.deepEqual(bytes, Buffer.from(encodeEssLabel(makeLabel(tlp, green, []))));
  });

  // Class: text a client joins. Fixed: a word split by an element was read as two words.
  test("a word split by an element is caught, in the body and in any payload; what crosses is what was read", async () => {
    const body = await run(`<message type='chat' ${FROM}><body>exc<b/>alibur</body></message>`, WORDS);
    assert.deepEqual([body.action, body.audit.reason], ["refuse", "content-blocked"]);
    const xhtml = await run(
      `<message type='chat' ${FROM}><body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>exc<span>ali</span>bur</p></body></html></message>`,
      WORDS,
    );
    assert.deepEqual([xhtml.action, xhtml.audit.reason], ["refuse", "content-blocked"]);
    const status = await run(
      `<presence ${FROM}><show>away</show><status>exc<b/>alibur</status></presence>`,
      WORDS,
      "outbound",
      (p) => {
        p.outbound.presence = { mode: "fold", keep: ["show", "status"] };
      },
    );
    assert.deepEqual([status.action, status.audit.reason], ["refuse", "content-blocked"]);
    // A label-unaware side gets its FLOT from the flattened text (what was checked).
    const flot = await run(
      `<message type='chat' ${FROM}><body>hel<b>l</b>o</body></message>`,
      {},
      "outbound",
      (p) => {
        p.remote.labelAware = false;
      },
    );
    assert.ok(flot.action === "pass", flot.audit.reason);
    assert.equal(flot.stanza.getChild("body")?.toString(), "<body>TLP:GREEN (relayed)\nhello</body>");
  });

  // Class: file transfer. Fixed: strip left jabber:iq:oob behind; SFS, SIMS, BoB, upload, aesgcm
  // links and vCard photos crossed.
  test("file transfer is refused or stripped in every form, and the audit names what was removed", async () => {
    const sfs = await run(
      `<message type='chat' ${FROM}><body>f</body><file-sharing xmlns='urn:xmpp:sfs:0'/></message>`,
    );
    assert.deepEqual(
      [sfs.action, sfs.audit.reason, sfs.audit.detail],
      ["refuse", "file-transfer-blocked", "sfs"],
    );
    const aesgcm = await run(`<message type='chat' ${FROM}><body>aesgcm://h/f#k</body></message>`);
    assert.deepEqual([aesgcm.action, aesgcm.audit.detail], ["refuse", "aesgcm"]);
    const stripped = await run(
      `<message type='chat' ${FROM}><body>f</body><query xmlns='jabber:iq:oob'><url>http://x/</url></query></message>`,
      { fileTransfer: { ibb: "block", jingle: "block", si: "block", oob: "strip" } },
    );
    assert.ok(stripped.action === "pass", stripped.audit.reason);
    assert.equal(stripped.stanza.getChild("query"), undefined);
    assert.deepEqual(stripped.audit.stripped, ["oob"]);
    const asked = await run(
      "<iq type='get' id='v1' from='bob@tlp.test/r' to='alice@tlpx.test'><vCard xmlns='vcard-temp'/></iq>",
      {},
      "inbound",
    );
    assert.ok(asked.action === "pass", asked.audit.reason);
    const vcard = await run(
      `<iq type='result' id='${asked.stanza.attrs.id}' from='alice@tlpx.test' to='bob@tlp.test/r'><vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><BINVAL>AAAA</BINVAL></PHOTO></vCard></iq>`,
    );
    assert.ok(vcard.action === "pass", vcard.audit.reason);
    assert.ok(!vcard.stanza.toString().includes("BINVAL"));
    assert.deepEqual(vcard.audit.stripped, ["vcard-photo"]);
  });

  // Class: what a kept presence part carries. Fixed: anything nested in a kept part crossed.
  test("a folded presence keeps each part in its known shape only", async () => {
    const d = await run(
      `<presence ${FROM}><show>away</show><x xmlns='http://jabber.org/protocol/muc'><exfil>plans</exfil></x></presence>`,
    );
    assert.ok(d.action === "pass", d.audit.reason);
    assert.ok(!d.stanza.toString().includes("plans"), d.stanza.toString());
  });

  // Class: what rules forgot. Fixed: markers crossed receipts: block; errors to a MUC domain
  // crossed one-to-one-only; a labelled presence crossed without its label; invitation reasons and
  // form titles reached label-unaware users unmarked.
  test("markers follow receipts; errors follow the traffic mode; labelled presence is refused", async () => {
    const marker = await run(
      `<message type='chat' ${FROM}><displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>`,
      { receipts: "block" },
    );
    assert.deepEqual([marker.action, marker.audit.reason], ["refuse", "receipt-blocked"]);
    const toRoom = await run(
      "<message type='error' from='alice@tlpx.test/r' to='room@rooms.tlp.test'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
      { mode: "one-to-one-only" },
    );
    assert.deepEqual([toRoom.action, toRoom.audit.reason], ["drop", "mode-one-to-one-only"]);
    const presence = await run(`<presence ${FROM}>${RED}</presence>`);
    assert.deepEqual([presence.action, presence.audit.reason], ["refuse", "presence-labelled"]);
  });

  test("a label-unaware side sees the marking on invitation reasons and form titles too", async () => {
    const d = await run(
      `<message ${FROM}><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'><reason>join us</reason></invite></x><x xmlns='jabber:x:conference' jid='r@rooms.tlpx.test' reason='come'/><x xmlns='jabber:x:data' type='form'><instructions>fill in</instructions></x></message>`,
      {},
      "outbound",
      (p) => {
        p.remote.labelAware = false;
      },
    );
    assert.ok(d.action === "pass", d.audit.reason);
    const m = "TLP:GREEN (relayed)";
    const [muc, conference, form] = d.stanza.getChildElements();
    assert.equal(muc?.getChild("invite")?.getChildText("reason"), `${m}\njoin us`);
    assert.equal(conference?.attrs.reason, `${m}\ncome`);
    assert.equal(form?.getChildText("title"), m);
    assert.equal(form?.getChildText("instructions"), `${m}\nfill in`);
  });

  // Class: spellings the word lists did not fold. Fixed: Cyrillic look-alikes and plurals crossed.
  test("a listed word in look-alike letters or in the plural is caught", async () => {
    for (const body of ["\u0435\u0445\u0441\u0430libur", "the excaliburs", "\u0395\u03A7CALIBUR"]) {
      const d = await run(`<message type='chat' ${FROM}><body>${body}</body></message>`, WORDS);
      assert.deepEqual([d.action, d.audit.reason], ["refuse", "content-blocked"], body);
    }
  });

  // Class: sender-chosen text in addresses and attributes. Fixed: resources (a client's name, a room
  // nickname), the recipient's localpart and the language tag crossed unread by the word lists.
  test("resources, the recipient's localpart and xml:lang go through the word lists", async () => {
    const cases = [
      "from='alice@tlpx.test/excalibur-laptop' to='bob@tlp.test'",
      "from='alice@tlpx.test/r' to='bob@tlp.test/excalibur'",
      "from='alice@tlpx.test/r' to='excalibur@tlp.test'",
      "from='alice@tlpx.test/r' to='bob@tlp.test' xml:lang='en-excalibur'",
    ];
    for (const attrs of cases) {
      const d = await run(`<message type='chat' ${attrs}><body>hi</body></message>`, WORDS);
      assert.deepEqual([d.action, d.audit.reason], ["refuse", "content-blocked"], attrs);
    }
    const join = await run(
      "<presence from='alice@tlpx.test/r' to='room@rooms.tlp.test/Excalibur'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
      WORDS,
    );
    assert.deepEqual([join.action, join.audit.reason], ["refuse", "content-blocked"]);
  });

  // Fixed: a presence of any type crossed with that type as it came.
  test("a presence type outside RFC 6121's does not cross", async () => {
    const d = await run(`<presence type='operation-dawn-0400' ${FROM}/>`);
    assert.deepEqual([d.action, d.audit.reason], ["refuse", "type-denied"]);
    assert.equal((await run(`<presence type='unavailable' ${FROM}/>`)).action, "pass");
  });
});

// Class: sender-chosen names. Found in review (advrelay): element names, attribute names and
// namespace names of a payload crossed unread by the word lists (`<excalibur xmlns='urn:x'/>`,
// `<x xmlns='urn:operation:excalibur'/>`, `<x excalibur='1'/>`), in messages, kept presence parts
// and IQ payloads alike: the receiving client holds them as the sender wrote them.
describe("hostile names", () => {
  test("element, attribute and namespace names of what crosses go through the word lists", async () => {
    for (const child of [
      "<excalibur xmlns='urn:example:x'/>",
      "<x xmlns='urn:example:operation:excalibur'/>",
      "<x xmlns='urn:example:x' excalibur='1'/>",
      "<x xmlns='urn:example:x'><y><excalibur/></y></x>",
      "<x xmlns='urn:example:x'><y xmlns='http://excalibur.example/ns'/></x>",
    ]) {
      const d = await run(`<message type='chat' ${FROM}><body>hi</body>${child}</message>`, WORDS);
      assert.deepEqual([d.action, d.audit.reason], ["refuse", "content-blocked"], child);
    }
    const iq = await run(
      "<iq type='get' id='n1' from='alice@tlpx.test/r' to='bob@tlp.test/r'><vCard xmlns='vcard-temp'><EXCALIBUR/></vCard></iq>",
      WORDS,
    );
    assert.deepEqual([iq.action, iq.audit.reason], ["refuse", "content-blocked"]);
    // Presence in full mode keeps every part as it came: its names too are read.
    const presence = await run(`<presence ${FROM}><excalibur xmlns='urn:example:x'/></presence>`, {
      ...WORDS,
      presence: { mode: "full", keep: [] },
    });
    assert.deepEqual([presence.action, presence.audit.reason], ["refuse", "content-blocked"]);
    // What every message carries does not trip a list of ordinary words.
    const plain = await run(
      `<message type='chat' ${FROM}><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
      WORDS,
    );
    assert.equal(plain.action, "pass");
  });
});

// Class: file transfer. Found in review (advrelay): a vCard's LOGO and SOUND (XEP-0054 §3, like
// PHOTO: base64 BINVAL, or a data: URI in EXTVAL) crossed whole while PHOTO was stripped.
describe("hostile vCards", () => {
  test("every binary a vCard embeds is stripped (PHOTO, LOGO, SOUND), and the audit names it", async () => {
    const asked = await run(
      "<iq type='get' id='v2' from='bob@tlp.test/r' to='alice@tlpx.test'><vCard xmlns='vcard-temp'/></iq>",
      {},
      "inbound",
    );
    assert.ok(asked.action === "pass", asked.audit.reason);
    const vcard = await run(
      `<iq type='result' id='${asked.stanza.attrs.id}' from='alice@tlpx.test' to='bob@tlp.test/r'><vCard xmlns='vcard-temp'><FN>Alice</FN><LOGO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></LOGO><SOUND><EXTVAL>data:audio/ogg;base64,T2dnUw==</EXTVAL></SOUND></vCard></iq>`,
    );
    assert.ok(vcard.action === "pass", vcard.audit.reason);
    const out = vcard.stanza.toString();
    assert.ok(!out.includes("BINVAL") && !out.includes("data:"), out);
    assert.equal(vcard.stanza.getChild("vCard", "vcard-temp")?.getChildText("FN"), "Alice");
    assert.deepEqual(vcard.audit.stripped, ["vcard-binary"]);
  });
});

// Class: what a kept presence part carries. Found in review (advrelay): the known shape kept the
// attributes and texts a XEP names, but any value in them — prose in a field defined as a number,
// a date, an enumeration or a hash (`<history maxstanzas='operation dawn at 0400'/>`, `<photo>`
// holding text, `<idle since='…'/>`) — so keeping only avatar, caps or idle still let free text
// through. Each such value now crosses only in its defined form.
describe("hostile presence values", () => {
  test("a kept part's numbers, dates, enumerations and hashes cross only in their defined form", async () => {
    const keepAll = {
      presence: {
        mode: "fold" as const,
        keep: ["show", "priority", "caps", "avatar", "idle", "muc"] as const,
      },
    };
    const d = await run(
      `<presence ${FROM}>` +
        "<x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='operation dawn at 0400' maxchars='100' since='the plans'/></x>" +
        "<x xmlns='vcard-temp:x:update'><photo>the plans are in the safe</photo></x>" +
        "<idle xmlns='urn:xmpp:idle:1' since='the plans'/>" +
        "<c xmlns='http://jabber.org/protocol/caps' hash='the plans' node='http://client.example' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>" +
        "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='the plans' role='participant'/><status code='the plans'/></x>" +
        "</presence>",
      { ...keepAll, presence: { ...keepAll.presence, keep: [...keepAll.presence.keep] } },
    );
    assert.ok(d.action === "pass", d.audit.reason);
    const out = d.stanza.toString();
    assert.ok(!out.includes("plans"), out);
    assert.ok(!out.includes("dawn"), out);
    // What has its defined form still crosses.
    assert.equal(
      d.stanza.getChild("x", "http://jabber.org/protocol/muc")?.getChild("history")?.attrs.maxchars,
      "100",
    );
    assert.equal(
      d.stanza.getChild("c", "http://jabber.org/protocol/caps")?.attrs.ver,
      "QgayPKawpkPSDYmwT/WM94uAlu0=",
    );
    assert.equal(
      d.stanza.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item")?.attrs.role,
      "participant",
    );
  });
});

// Class: file transfer. Found in review (advrelay): XEP-0084 avatar data (the image, base64) crossed
// in a message's pubsub event while bits of binary and vCard photos did not.
describe("hostile avatar data", () => {
  test("avatar data (XEP-0084) is in-band data: refused unless ibb passes", async () => {
    const event =
      "<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:data'><item id='0123456789abcdef0123456789abcdef01234567'><data xmlns='urn:xmpp:avatar:data'>iVBORw0KGgo=</data></item></items></event>";
    const blocked = await run(`<message type='headline' ${FROM}>${event}</message>`);
    assert.deepEqual(
      [blocked.action, blocked.audit.reason, blocked.audit.detail],
      ["refuse", "file-transfer-blocked", "avatar-data"],
    );
    const passed = await run(`<message type='chat' ${FROM}><body>hi</body>${event}</message>`, {
      fileTransfer: { ibb: "pass", jingle: "block", si: "block", oob: "block" },
    });
    assert.equal(passed.action, "pass");
  });
});
