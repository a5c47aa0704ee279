import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, type Element } from "@cordon/component";
import { buildSecurityLabelXml, makeClearance } from "@cordon/policy";
import { MemoryStore, type ClearanceLookup } from "@cordon/store";
import { ClientLocations } from "@cordon/rules";
import { decide } from "../src/decide.js";
import type { CheckOrigin, RecipientSession } from "../src/protocol.js";
import { cls, decideContext, label, policy, SERVER, storedClearance } from "./decide-fixture.js";

const raw = (...names: string[]) => storedClearance(names.map(cls));

async function setup(store = new MemoryStore(), locations = new ClientLocations({ locations: [] })) {
  await store.setUserClearance("alice@example.test", raw("UNCLASSIFIED", "SECRET"));
  await store.setUserClearance("carol@example.test", raw("UNCLASSIFIED"));
  await store.setPeerClearance("partner.test", "inbound", raw("UNCLASSIFIED"));
  const context = decideContext(store, locations);
  const ask = (
    origin: CheckOrigin,
    text: string,
    more: { senderIp?: string; sessions?: RecipientSession[] } = {},
  ) => decide(context, SERVER, { origin, message: parseElement(text), sessions: [], ...more });
  return { store, context, ask };
}
const SECRET = buildSecurityLabelXml(label("SECRET"));

test("a label the recipient is cleared for is delivered, re-encoded with the policy's marking", async () => {
  const { ask } = await setup();
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='alice@example.test' id='1'><body>x</body>${SECRET}</message>`,
  );
  assert.equal(got.reason, "deliver");
  assert.equal(got.verdict.action, "deliver");
  const out = (got.verdict as { message: Element }).message;
  assert.equal(out.getChildren("securitylabel", "urn:xmpp:sec-label:0").length, 1);
  assert.equal(out.getChild("securitylabel")?.getChildText("displaymarking"), "SECRET");
  assert.equal(out.getChildText("body"), "x");
});

test("refusals carry nothing of the message; an over-long or unprintable id is left out", async () => {
  const { ask } = await setup();
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='carol@example.test' id='ok-1'><body>secret words</body>${SECRET}</message>`,
  );
  assert.equal(got.reason, "recipient-not-cleared");
  const error = (got.verdict as { error: Element }).error;
  assert.equal(error.attrs.id, "ok-1");
  assert.ok(!error.toString().includes("secret words"));
  assert.equal(error.getChild("securitylabel"), undefined);
  const long = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='carol@example.test' id='${"x".repeat(200)}'>${SECRET}</message>`,
  );
  assert.equal((long.verdict as { error: Element }).error.attrs.id, undefined);
});

test("a remote sender is judged on its domain's inbound peer clearance; origin and domain must agree", async () => {
  const { ask } = await setup();
  const remote = await ask(
    "s2s",
    `<message from='dave@partner.test/r' to='alice@example.test'>${SECRET}</message>`,
  );
  assert.equal(remote.reason, "sender-not-cleared");
  const plain = await ask(
    "s2s",
    `<message from='dave@partner.test/r' to='alice@example.test'><body>hi</body></message>`,
  );
  assert.equal(plain.reason, "deliver");
  // A client session cannot speak for another domain, a remote server not for ours, and the
  // recipient must be a user of the asking server.
  assert.equal(
    (await ask("c2s", `<message from='dave@partner.test/r' to='alice@example.test'/>`)).reason,
    "addressing",
  );
  assert.equal(
    (await ask("s2s", `<message from='carol@example.test/r' to='alice@example.test'/>`)).reason,
    "addressing",
  );
  assert.equal(
    (await ask("c2s", `<message from='carol@example.test/r' to='bob@elsewhere.test'/>`)).reason,
    "addressing",
  );
});

test("error messages are never answered: a labelled one is dropped, a refused one too", async () => {
  const { ask } = await setup();
  const labelled = await ask(
    "c2s",
    `<message type='error' from='alice@example.test/r' to='alice@example.test'>${SECRET}</message>`,
  );
  assert.deepEqual([labelled.verdict.action, labelled.reason], ["drop", "labelled-error"]);
  const refused = await ask(
    "c2s",
    `<message type='error' from='alice@example.test/r' to='mallory@example.test'/>`,
  );
  assert.deepEqual([refused.verdict.action, refused.reason], ["drop", "recipient-not-cleared"]);
});

test("a clearance that cannot be read refuses with a wait error (fail closed)", async () => {
  const store = new MemoryStore();
  const { ask } = await setup(store);
  store.getUserClearance = (): Promise<ClearanceLookup> =>
    Promise.resolve({ status: "unknown", reason: "store down" });
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='carol@example.test'><body>hi</body></message>`,
  );
  assert.equal(got.reason, "sender-unknown");
  assert.equal((got.verdict as { error: Element }).error.getChild("error")?.attrs.type, "wait");
});

const clearanceOf = (...names: string[]) => makeClearance(policy, names.map(cls), []);
const sites = () =>
  new ClientLocations({
    locations: [
      { ranges: ["10.0.0.0/8", "fd00::/8"], clearance: clearanceOf("UNCLASSIFIED", "SECRET") },
      { ranges: ["10.9.0.0/16"], clearance: clearanceOf("UNCLASSIFIED") },
    ],
  });
const session = (resource: string, ip: string | undefined, labels: boolean): RecipientSession => ({
  resource,
  ip,
  labels,
});
const toAlice = (body: string, label = SECRET) =>
  `<message from='alice@example.test/r' to='alice@example.test' id='s1'><body>${body}</body>${label}</message>`;
type Delivered = { message: Element; flot?: Element; sessions?: { resource: string; form: string }[] };

test("each recipient session gets the label (client advertises labels), FLOT (it does not) or nothing (its location does not grant)", async () => {
  const { ask } = await setup(new MemoryStore(), sites());
  const got = await ask("c2s", toAlice("plans"), {
    senderIp: "10.1.2.3",
    sessions: [
      session("desk", "10.1.1.1", true),
      session("phone", "::ffff:10.2.2.2", false),
      session("cafe", "192.0.2.7", true), // in no range, no otherLocations: unknown location
      session("annex", "10.9.1.1", true), // the more specific /16: UNCLASSIFIED only
      session("v6", "fd00::1", true),
      session("no-ip", undefined, true),
    ],
  });
  assert.equal(got.reason, "deliver");
  const v = got.verdict as Delivered;
  assert.deepEqual(
    v.sessions?.map((s) => `${s.resource}:${s.form}`),
    ["desk:label", "phone:flot", "cafe:none", "annex:none", "v6:label", "no-ip:none"],
  );
  assert.equal(v.flot?.getChildText("body"), "SECRET\nplans", "FLOT: the policy's marking first");
  assert.equal(v.message.getChildText("body"), "plans", "the labelled form is not marked");
  assert.equal(v.flot?.getChild("securitylabel")?.getChildText("displaymarking"), "SECRET");
});

test("a sending session whose location does not grant the label is refused; an unknown one too", async () => {
  const { ask } = await setup(new MemoryStore(), sites());
  for (const senderIp of ["10.9.0.1", "192.0.2.1", undefined]) {
    const got = await ask("c2s", toAlice("x"), senderIp ? { senderIp } : {});
    assert.equal(got.reason, "sender-location", String(senderIp));
    assert.equal((got.verdict as { error: Element }).error.getChild("error")?.attrs.type, "auth");
  }
  const unlabelled = await ask("c2s", toAlice("x", ""), { senderIp: "10.9.0.1" });
  assert.equal(unlabelled.reason, "deliver", "UNCLASSIFIED (the default) is granted there");
  const withOther = await setup(
    new MemoryStore(),
    new ClientLocations({
      locations: [{ ranges: ["10.9.0.0/16"], clearance: clearanceOf("UNCLASSIFIED") }],
      otherLocations: clearanceOf("UNCLASSIFIED", "SECRET"),
    }),
  );
  assert.equal((await withOther.ask("c2s", toAlice("x"), { senderIp: "192.0.2.1" })).reason, "deliver");
});

test("a message none of whose recipient sessions may have it, or for one session that may not, is refused", async () => {
  const { ask } = await setup(new MemoryStore(), sites());
  const none = await ask("c2s", toAlice("x"), {
    senderIp: "10.1.1.1",
    sessions: [session("a", "10.9.0.1", true), session("b", "192.0.2.1", false)],
  });
  assert.equal(none.reason, "recipient-location");
  const full = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='alice@example.test/annex'><body>x</body>${SECRET}</message>`,
    {
      senderIp: "10.1.1.1",
      sessions: [session("desk", "10.1.1.1", true), session("annex", "10.9.0.1", true)],
    },
  );
  assert.equal(full.reason, "recipient-location");
  const offline = await ask("c2s", toAlice("x"), { senderIp: "10.1.1.1" });
  assert.equal(offline.reason, "deliver", "no sessions: stored in the labelled form");
  assert.equal((offline.verdict as Delivered).sessions, undefined);
});

test("FLOT marks what a label-unaware client shows besides the body, and shares nothing with the labelled form", async () => {
  const { ask } = await setup();
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='alice@example.test'><x xmlns='jabber:x:conference' jid='r@c' reason='meet'/>${SECRET}</message>`,
    { sessions: [session("a", undefined, false), session("b", undefined, true)] },
  );
  const v = got.verdict as Delivered;
  assert.equal(v.flot?.getChildText("body"), "SECRET", "a marking-only body");
  assert.equal(v.flot?.getChild("x", "jabber:x:conference")?.attrs.reason, "SECRET\nmeet");
  assert.equal(v.message.getChild("x", "jabber:x:conference")?.attrs.reason, "meet");
  assert.equal(v.message.getChild("body"), undefined);
});

test("a stored message replayed to a session whose location may not have it is kept (form none), not refused", async () => {
  const { context } = await setup(new MemoryStore(), sites());
  const got = await decide(context, SERVER, {
    origin: "c2s",
    message: parseElement(toAlice("x")),
    sessions: [session("annex", "10.9.0.1", true)],
    offline: true,
  });
  assert.equal(got.reason, "deliver");
  assert.deepEqual((got.verdict as Delivered).sessions, [{ resource: "annex", form: "none" }]);
});

test("a presence or IQ carrying a label anywhere is refused (labels go on messages); a result or error is dropped", async () => {
  const { ask } = await setup();
  const cases: [string, string, string][] = [
    [
      `<presence from='alice@example.test/r' to='carol@example.test' id='p1'><status>s</status>${SECRET}</presence>`,
      "refuse",
      "label:payload-labelled",
    ],
    [
      `<iq type='set' from='alice@example.test/r' to='carol@example.test/x' id='i1'><data xmlns='urn:x'>${SECRET}</data></iq>`,
      "refuse",
      "label:nested-label",
    ],
    [
      `<iq type='set' from='alice@example.test/r' to='alice@example.test' id='i2'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item><e xmlns='urn:x'>${SECRET}</e></item></publish></pubsub></iq>`,
      "refuse",
      "label:nested-label",
    ],
    [
      `<iq type='result' from='alice@example.test/r' to='carol@example.test/x' id='i3'><q xmlns='urn:x'>${SECRET}</q></iq>`,
      "drop",
      "label:nested-label",
    ],
    [
      `<presence type='error' from='alice@example.test/r' to='carol@example.test'>${SECRET}</presence>`,
      "drop",
      "label:payload-labelled",
    ],
    [
      `<presence from='alice@example.test/r' to='carol@example.test'><x:status xmlns:x='jabber:client'>s</x:status></presence>`,
      "refuse",
      "label:prefixed-name",
    ],
    [
      `<presence from='alice@example.test/r' to='carol@example.test'><status>fine</status></presence>`,
      "deliver",
      "deliver",
    ],
  ];
  for (const [stanza, action, reason] of cases) {
    const got = await ask("c2s", stanza);
    assert.deepEqual([got.verdict.action, got.reason], [action, reason], stanza);
    if (got.verdict.action === "refuse") {
      const error = got.verdict.error;
      assert.equal(error.name, parseElement(stanza).name);
      assert.ok(!error.toString().includes("securitylabel") && !error.toString().includes("status>"));
    }
  }
  const spoofed = await ask(
    "s2s",
    `<presence from='alice@example.test/r' to='carol@example.test'>${SECRET}</presence>`,
  );
  assert.equal(spoofed.reason, "addressing");
});

const result = (to: string, inner: string, from = "carol@example.test") =>
  `<message from='${from}' to='${to}'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/>${inner}</forwarded></result></message>`;

test("an archive result is decided against the reader's clearance now: SECRET to an UNCLASSIFIED reader is dropped", async () => {
  const { context } = await setup(new MemoryStore(), sites());
  const archive = (message: string, sessions: RecipientSession[]) =>
    decide(context, SERVER, { origin: "c2s", message: parseElement(message), sessions, archive: true });
  const secret = `<message from='alice@example.test/r' to='carol@example.test' id='m'><body>s</body>${SECRET}</message>`;
  const plain = `<message from='alice@example.test/r' to='carol@example.test' id='m'><body>p</body></message>`;
  const desk = [session("desk", "10.1.1.1", true)];
  assert.deepEqual((await archive(result("carol@example.test/desk", secret), desk)).verdict, {
    action: "drop",
  });
  const ok = await archive(result("carol@example.test/desk", plain), desk);
  assert.equal(ok.reason, "deliver");
  const inner = (ok.verdict as Delivered).message
    .getChild("result")
    ?.getChild("forwarded")
    ?.getChild("message");
  assert.equal(inner?.getChildText("body"), "p");
  assert.equal(inner?.getChild("securitylabel")?.getChildText("displaymarking"), "UNCLASSIFIED");
  assert.ok((ok.verdict as Delivered).message.getChild("result")?.getChild("forwarded")?.getChild("delay"));
  // alice (SECRET) reads her own archive: delivered, FLOT for a label-unaware session, nothing at the annex.
  const mine = (to: string, s: RecipientSession[]) =>
    archive(result(to, secret.replace("to='carol", "to='bob"), "alice@example.test"), s);
  const flot = await mine("alice@example.test/phone", [session("phone", "10.1.1.2", false)]);
  assert.equal(
    (flot.verdict as Delivered).message
      .getChild("result")
      ?.getChild("forwarded")
      ?.getChild("message")
      ?.getChildText("body"),
    "SECRET\ns",
  );
  assert.equal(
    (await mine("alice@example.test/annex", [session("annex", "10.9.0.1", true)])).reason,
    "recipient-location",
  );
  // Someone else's archive, or a result with two messages in it: dropped.
  assert.equal(
    (await archive(result("carol@example.test/desk", plain, "alice@example.test"), desk)).reason,
    "addressing",
  );
  assert.equal(
    (await archive(result("carol@example.test/desk", plain + plain), desk)).verdict.action,
    "drop",
  );
});

test("the sender's other sessions get their sent carbons as decided: nothing for a refused message or an uncleared site", async () => {
  const { context } = await setup(new MemoryStore(), sites());
  const copies = [session("phone", "10.1.1.2", false), session("kiosk", "10.9.0.3", true)];
  const ask = (to: string, label = SECRET) =>
    decide(context, SERVER, {
      origin: "c2s",
      message: parseElement(
        `<message from='alice@example.test/desk' to='${to}' id='c1'><body>b</body>${label}</message>`,
      ),
      senderIp: "10.1.1.1",
      sessions: [],
      copies,
    });
  const toSelf = await ask("alice@example.test");
  assert.deepEqual((toSelf.verdict as Delivered & { copies?: unknown }).copies, [
    { resource: "phone", form: "flot" },
    { resource: "kiosk", form: "none" },
  ]);
  // carol is not cleared for SECRET: refused, so no copy is sent at all.
  assert.equal((await ask("carol@example.test")).reason, "recipient-not-cleared");
  // To a component or another server: decided for the copies alone (sender, server, locations).
  const remote = await ask("room@rooms.example.test");
  assert.equal(remote.reason, "deliver");
  assert.equal((remote.verdict as Delivered).sessions, undefined);
  assert.deepEqual(
    (remote.verdict as Delivered & { copies?: { form: string }[] }).copies?.map((c) => c.form),
    ["flot", "none"],
  );
  assert.equal(
    (await ask("room@rooms.example.test", buildSecurityLabelXml(label("TOP SECRET")))).reason,
    "sender-not-cleared",
  );
});
