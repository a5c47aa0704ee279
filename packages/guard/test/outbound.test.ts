// A message a local session sends to another domain (outbound.ts; issue 17, review adv16b).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, type Element } from "@cordon/component";
import { buildSecurityLabelXml, makeClearance } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { ClientLocations } from "@cordon/rules";
import { decide } from "../src/decide.js";
import { readCheck, type RecipientSession } from "../src/protocol.js";
import type { OutboundDestination } from "../src/outbound.js";
import { cls, decideContext, label, policy, SERVER, storedClearance } from "./decide-fixture.js";

const raw = (...names: string[]) => storedClearance(names.map(cls));
const SECRET = buildSecurityLabelXml(label("SECRET"));
const CLEARED = "10.1.1.1";
const ANNEX = "10.9.0.1";

async function setup() {
  const store = new MemoryStore();
  await store.setUserClearance("alice@example.test", raw("UNCLASSIFIED", "SECRET"));
  await store.setUserClearance("carol@example.test", raw("UNCLASSIFIED"));
  await store.setPeerClearance("partner.test", "outbound", raw("UNCLASSIFIED", "SECRET"));
  await store.setPeerClearance("low.test", "outbound", raw("UNCLASSIFIED"));
  // (An inbound clearance says nothing of what may leave for that domain.)
  await store.setPeerClearance("inbound-only.test", "inbound", raw("UNCLASSIFIED", "SECRET"));
  const locations = new ClientLocations({
    locations: [
      { ranges: ["10.1.0.0/16"], clearance: makeClearance(policy, [cls("UNCLASSIFIED"), cls("SECRET")], []) },
      { ranges: ["10.9.0.0/16"], clearance: makeClearance(policy, [cls("UNCLASSIFIED")], []) },
    ],
  });
  const context = decideContext(store, locations);
  const ask = (
    to: string,
    body: string,
    o: { from?: string; ip?: string; outbound?: OutboundDestination; copies?: RecipientSession[] } = {},
  ) =>
    decide(context, SERVER, {
      origin: "c2s",
      message: parseElement(
        `<message from='${o.from ?? "alice@example.test/desk"}' to='${to}' id='o1' type='chat'>${body}</message>`,
      ),
      senderIp: o.ip ?? CLEARED,
      sessions: [],
      outbound: o.outbound ?? "peer",
      ...(o.copies ? { copies: o.copies } : {}),
    });
  return { ask };
}

const errorText = (el: Element) => el.toString();

test("outbound SECRET from the UNCLASSIFIED-only location is refused forbidden, nothing of the message in the error", async () => {
  const { ask } = await setup();
  const got = await ask("bob@partner.test", `<body>secret words</body>${SECRET}`, { ip: ANNEX });
  assert.equal(got.reason, "sender-location");
  assert.equal(got.verdict.action, "refuse");
  const error = (got.verdict as { error: Element }).error;
  assert.equal(error.getChild("error")?.attrs.type, "auth");
  assert.ok(error.getChild("error")?.getChild("forbidden"));
  assert.ok(!/secret words|securitylabel/.test(errorText(error)));
  // The same from the cleared location: delivered with the policy's label and marking.
  const ok = await ask("bob@partner.test", `<body>secret words</body>${SECRET}`);
  assert.equal(ok.reason, "deliver");
  const out = (ok.verdict as { message: Element }).message;
  assert.equal(out.getChild("securitylabel")?.getChildText("displaymarking"), "SECRET");
  // Unlabelled from the annex: the default label (UNCLASSIFIED), granted there.
  const plain = await ask("bob@partner.test", "<body>hi</body>", { ip: ANNEX });
  assert.equal(plain.reason, "deliver");
  assert.equal(
    (plain.verdict as { message: Element }).message.getChild("securitylabel")?.getChildText("displaymarking"),
    "UNCLASSIFIED",
  );
});

test("outbound: the sender's clearance, the destination's outbound peer clearance, unknown domains, malformed labels", async () => {
  const { ask } = await setup();
  assert.equal(
    (await ask("bob@partner.test", `<body>x</body>${SECRET}`, { from: "carol@example.test/r" })).reason,
    "sender-not-cleared",
  );
  assert.equal((await ask("bob@low.test", `<body>x</body>${SECRET}`)).reason, "recipient-not-cleared");
  // A domain with no outbound peer clearance grants nothing: labelled or not (the default label).
  assert.equal((await ask("bob@unknown.test", `<body>x</body>${SECRET}`)).reason, "recipient-not-cleared");
  assert.equal((await ask("bob@unknown.test", "<body>x</body>")).reason, "recipient-not-cleared");
  assert.equal((await ask("bob@inbound-only.test", "<body>x</body>")).reason, "recipient-not-cleared");
  // To a domain itself (no local part), to a remote user's full JID.
  assert.equal((await ask("partner.test", `<body>x</body>${SECRET}`)).reason, "deliver");
  assert.equal((await ask("bob@partner.test/phone", `<body>x</body>${SECRET}`)).reason, "deliver");
  const bad = await ask(
    "bob@partner.test",
    "<body>x</body><securitylabel xmlns='urn:xmpp:sec-label:0'><label>junk</label></securitylabel>",
  );
  assert.equal(bad.verdict.action, "refuse");
  assert.match(bad.reason, /^label:/);
  // A served domain is decided on delivery, never as outbound.
  assert.equal((await ask("carol@example.test", "<body>x</body>")).reason, "addressing");
});

test("outbound to a trusted component: the sender side only; copies in the same answer", async () => {
  const { ask } = await setup();
  const room = await ask("room@rooms.example.test", "<body>x</body>", { outbound: "component", ip: ANNEX });
  assert.equal(room.reason, "deliver");
  // (The policy's form, for the sent carbons; the module sends the message on as written.)
  assert.equal(
    (room.verdict as { message: Element }).message.getChild("securitylabel")?.getChildText("displaymarking"),
    "UNCLASSIFIED",
  );
  assert.equal(
    (await ask("bob@b.mil", `<body>x</body>${SECRET}`, { outbound: "component", ip: ANNEX })).reason,
    "sender-location",
  );
  assert.equal(
    (
      await ask("bob@b.mil", `<body>x</body>${SECRET}`, {
        outbound: "component",
        from: "carol@example.test/r",
      })
    ).reason,
    "sender-not-cleared",
  );
  const copies = [
    { resource: "phone", ip: CLEARED, labels: false },
    { resource: "kiosk", ip: ANNEX, labels: true },
  ];
  const got = await ask("bob@partner.test", `<body>x</body>${SECRET}`, { copies });
  assert.deepEqual((got.verdict as { copies?: unknown }).copies, [
    { resource: "phone", form: "flot" },
    { resource: "kiosk", form: "none" },
  ]);
});

test("readCheck takes outbound only from a c2s question without recipient sessions", () => {
  const check = (attrs: string, more = "") =>
    readCheck(
      parseElement(
        `<check xmlns='urn:cordon:guard:0' ${attrs}><message xmlns='jabber:client' from='a@example.test/r' to='b@partner.test'/>${more}</check>`,
      ),
    );
  assert.equal(check("origin='c2s' outbound='peer'")?.outbound, "peer");
  assert.equal(check("origin='c2s' outbound='component'")?.outbound, "component");
  assert.equal(check("origin='c2s'")?.outbound, undefined);
  assert.equal(check("origin='s2s' outbound='peer'"), undefined);
  assert.equal(check("origin='c2s' outbound='1'"), undefined);
  assert.equal(check("origin='c2s' outbound='peer'", "<session resource='x'/>"), undefined);
});
