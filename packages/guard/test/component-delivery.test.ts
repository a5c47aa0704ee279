// A message a trusted component (Cordon's relay) delivers: each recipient session's location only
// (component-delivery.ts, issue 17 "Inbound across the relay").
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, type Element } from "@cordon/component";
import { buildSecurityLabelXml, makeClearance } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { ClientLocations } from "@cordon/rules";
import { decide } from "../src/decide.js";
import { readCheck, type RecipientSession } from "../src/protocol.js";
import { cls, decideContext, label, policy, SERVER } from "./decide-fixture.js";

const clearanceOf = (...names: string[]) => makeClearance(policy, names.map(cls), []);
const sites = new ClientLocations({
  locations: [
    { ranges: ["10.0.0.0/8"], clearance: clearanceOf("UNCLASSIFIED", "SECRET") },
    { ranges: ["10.9.0.0/16"], clearance: clearanceOf("UNCLASSIFIED") },
  ],
});
// No clearance in the store at all: none is read (the component decided them).
const context = decideContext(new MemoryStore(), sites);
const SECRET = buildSecurityLabelXml(label("SECRET"));
const desk: RecipientSession = { resource: "desk", ip: "10.1.1.1", labels: false };
const annex: RecipientSession = { resource: "annex", ip: "10.9.1.1", labels: true };
const fromPeer = (to: string, children: string, more = "") =>
  `<message from='bob@partner.test/desk' to='${to}' id='r1' type='chat'${more}>${children}</message>`;
const ask = (text: string, sessions: RecipientSession[], offline = false) =>
  decide(context, SERVER, { origin: "component", message: parseElement(text), sessions, offline });
type Delivered = { message: Element; flot?: Element; sessions?: { resource: string; form: string }[] };
const forms = (v: unknown) => (v as Delivered).sessions?.map((s) => `${s.resource}:${s.form}`);

test("each session gets the message as the component wrote it, or nothing where its location does not grant the label", async () => {
  const text = fromPeer("alice@example.test", `<body>plans</body>${SECRET}`);
  const got = await ask(text, [desk, annex]);
  assert.equal(got.reason, "deliver");
  assert.deepEqual(forms(got.verdict), ["desk:label", "annex:none"]);
  const v = got.verdict as Delivered;
  assert.equal(v.flot, undefined, "no FLOT of the guard's: the component's form stands");
  assert.equal(v.message.toString(), parseElement(text).toString(), "as written, the label its own bytes");
  // Unlabelled (the default label, UNCLASSIFIED): both sites, and no label added.
  const plain = await ask(fromPeer("alice@example.test", "<body>hi</body>"), [desk, annex]);
  assert.deepEqual(forms(plain.verdict), ["desk:label", "annex:label"]);
  assert.equal((plain.verdict as Delivered).message.getChild("securitylabel"), undefined);
});

test("no session that may have it, or the one session addressed may not: refused forbidden, nothing of the message", async () => {
  for (const [to, sessions] of [
    ["alice@example.test", [annex]],
    ["alice@example.test/annex", [desk, annex]],
  ] as const) {
    const got = await ask(fromPeer(to, `<body>plans</body>${SECRET}`), [...sessions]);
    assert.equal(got.reason, "recipient-location", to);
    const error = (got.verdict as { error: Element }).error;
    assert.equal(error.attrs.to, "bob@partner.test/desk");
    assert.deepEqual(
      error.getChildElements().map((c) => c.name),
      ["error"],
    );
    assert.ok(error.getChild("error")?.getChild("forbidden"));
  }
  // Offline (no session): stored, decided again when replayed; replayed to the annex: kept stored.
  assert.equal((await ask(fromPeer("alice@example.test", SECRET), [])).reason, "deliver");
  const replayed = await ask(fromPeer("alice@example.test", SECRET), [annex], true);
  assert.equal(replayed.reason, "deliver");
  assert.deepEqual(forms(replayed.verdict), ["annex:none"]);
});

test("a label the policy cannot read is refused with its code; a labelled error dropped; a served sender refused", async () => {
  const bad = await ask(
    fromPeer(
      "alice@example.test",
      "<securitylabel xmlns='urn:xmpp:sec-label:0'><label>x</label></securitylabel>",
    ),
    [desk],
  );
  assert.match(bad.reason, /^label:/);
  const err = await ask(fromPeer("alice@example.test", SECRET, " type='error'").replace("type='chat'", ""), [
    desk,
  ]);
  assert.equal(err.verdict.action, "drop");
  const local = await ask(
    `<message from='carol@example.test/x' to='alice@example.test'><body>x</body></message>`,
    [desk],
  );
  assert.equal(local.reason, "addressing");
});

test("readCheck: origin='component' takes a message, presence or IQ and its recipient's sessions only", () => {
  const check = (inner: string, attrs = "") =>
    readCheck(parseElement(`<check xmlns='urn:cordon:guard:0' origin='component'${attrs}>${inner}</check>`));
  assert.equal(
    check("<message xmlns='jabber:client'/><session resource='a' ip='10.1.1.1'/>")?.origin,
    "component",
  );
  assert.equal(check("<presence xmlns='jabber:client'/>")?.message.name, "presence");
  assert.equal(check("<message xmlns='jabber:client'/><copy resource='a'/>"), undefined);
  assert.equal(check("<message xmlns='jabber:client'/>", " archive='1'"), undefined);
  assert.equal(check("<message xmlns='jabber:client'/>", " outbound='peer'"), undefined);
});

test("a labelled IQ or presence a trusted component delivers: delivered only where every session listed is located to have it (adv17d)", async () => {
  const iq = (more: string) =>
    `<iq from='bob@partner.test/desk' to='alice@example.test/annex' id='q1' type='result'><vCard xmlns='vcard-temp'><FN>x</FN></vCard>${more}</iq>`;
  const askIq = (text: string, sessions: RecipientSession[]) =>
    decide(context, SERVER, { origin: "component", message: parseElement(text), sessions, offline: false });
  // Before, the modules did not ask: the annex session got SECRET.
  const annexGot = await askIq(iq(SECRET), [annex]);
  assert.equal(annexGot.reason, "recipient-location");
  assert.equal(annexGot.verdict.action, "drop", "a result is never answered");
  assert.equal((await askIq(iq(SECRET), [desk])).verdict.action, "deliver");
  // A bare JID: every session must be located to have it.
  assert.equal((await askIq(iq(SECRET), [desk, annex])).reason, "recipient-location");
  // A request is refused forbidden, nothing of it in the error.
  const get = await askIq(iq(SECRET).replace("type='result'", "type='get'"), [annex]);
  const error = (get.verdict as { error: Element }).error;
  assert.deepEqual(
    error.getChildElements().map((c) => c.name),
    ["error"],
  );
  // Two labels, or one hidden below: refused as a message's would be; no label of its own: delivered.
  assert.match((await askIq(iq(SECRET + SECRET), [desk])).reason, /^label:/);
  assert.equal((await askIq(iq(""), [annex])).verdict.action, "deliver");
  // A served sender is not a component's delivery.
  const local = await askIq(iq(SECRET).replace("bob@partner.test", "carol@example.test"), [desk]);
  assert.equal(local.reason, "addressing");
});
