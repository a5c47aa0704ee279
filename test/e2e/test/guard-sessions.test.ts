// The central check per session (issue 17): what each session of a recipient gets — the label for
// a client that advertises XEP-0258 in its caps, FLOT for one that does not, nothing for one whose
// client location (IP range) is not cleared for the label — including XEP-0280 carbons and offline
// messages replayed at login; a sending session's location too. Real servers, real clients; the
// clients connect from 127.0.0.1 (a cleared site) or 127.0.0.2 (an UNCLASSIFIED-only site).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import type { Element } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const NS_LABEL = "urn:xmpp:sec-label:0";
const NS_CARBONS = "urn:xmpp:carbons:2";
const PASSWORD = "sessions-pw";

const message = (to: string, id: string, body: string, label = "") =>
  `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${label}</message>`;
const marking = (m: Element) => m.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking");
const carbonOf = (m: Element) =>
  m.getChild("received", NS_CARBONS)?.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("message");

for (const kind of serverKinds()) {
  describe(`the central check per session on ${kind} (issue 17)`, () => {
    const domain = `${kind}-sessions.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));

    /** A session of `user` from `site`, announcing caps with or without labels; carbons when asked. */
    const session = guarded.capsSessions(kind, () => server, open, PASSWORD);

    const nothing = async (client: TestClient, pred: (s: Element) => boolean) => {
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(client.received.filter(pred).length, 0);
    };

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "dan"],
          password: PASSWORD,
          guard: { timeoutSeconds: 2 },
        },
        { extraModules: kind === "prosody" ? ["carbons"] : ["mod_carboncopy"] },
      );
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, locations: guarded.twoSites(demo) },
        false,
      );
    });

    after(() => guarded.stopGuarded(server, guard, open));

    test(`[${kind}] each session of a recipient: label (caps say labels), FLOT (they do not), nothing (uncleared site) — carbons too`, async () => {
      const alice = await session("alice", "desk", CLEARED_SITE, true);
      const aware = await session("bob", "aware", CLEARED_SITE, true, true);
      const plain = await session("bob", "plain", CLEARED_SITE, false, true);
      const annex = await session("bob", "annex", UNCLASSIFIED_SITE, true, true);

      await sendRaw(alice, message(jid("bob"), "p1", "plans", SECRET));
      const a = await aware.waitFor((m) => m.attrs.id === "p1", 8000);
      assert.equal(a.getChildText("body"), "plans");
      assert.equal(marking(a), "SECRET");
      const p = await plain.waitFor((m) => m.attrs.id === "p1", 8000);
      assert.equal(p.getChildText("body"), "SECRET\nplans", "FLOT: the policy's marking as the first line");
      await nothing(annex, (m) => m.attrs.id === "p1" || carbonOf(m)?.attrs.id === "p1");

      // UNCLASSIFIED reaches the annex.
      await sendRaw(alice, message(jid("bob"), "p2", "lunch"));
      assert.equal((await annex.waitFor((m) => m.attrs.id === "p2", 8000)).getChildText("body"), "lunch");

      // To one session: the others get XEP-0280 carbons, each in its own form; the annex none.
      await sendRaw(alice, message(`${jid("bob")}/aware`, "p3", "direct", SECRET));
      assert.equal((await aware.waitFor((m) => m.attrs.id === "p3", 8000)).getChildText("body"), "direct");
      const carbon = await plain.waitFor((m) => carbonOf(m)?.attrs.id === "p3", 8000);
      assert.equal(carbonOf(carbon)?.getChildText("body"), "SECRET\ndirect");
      await nothing(annex, (m) => m.attrs.id === "p3" || carbonOf(m)?.attrs.id === "p3");

      // To the annex itself: refused, nothing echoed.
      await sendRaw(alice, message(`${jid("bob")}/annex`, "p4", "not here", SECRET));
      const error = await alice.waitFor((m) => m.attrs.id === "p4" && m.attrs.type === "error", 8000);
      assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
      assert.ok(!error.toString().includes("not here"));
      await nothing(annex, (m) => m.attrs.id === "p4" || carbonOf(m)?.attrs.id === "p4");
      for (const c of [alice, aware, plain, annex]) await c.stop();
    });

    test(`[${kind}] sent carbons (XEP-0280): each of the sender's other sessions gets its own form, an uncleared site nothing`, async () => {
      const desk = await session("alice", "desk4", CLEARED_SITE, true, true);
      const phone = await session("alice", "phone4", CLEARED_SITE, false, true);
      const kiosk = await session("alice", "kiosk4", UNCLASSIFIED_SITE, true, true);
      const bob = await session("bob", "desk4", CLEARED_SITE, true);
      const sentOf = (m: Element) =>
        m.getChild("sent", NS_CARBONS)?.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("message");
      await sendRaw(desk, message(jid("bob"), "c1", "orders", SECRET));
      assert.equal((await bob.waitFor((m) => m.attrs.id === "c1", 8000)).getChildText("body"), "orders");
      const copy = await phone.waitFor((m) => sentOf(m)?.attrs.id === "c1", 8000);
      assert.equal(sentOf(copy)?.getChildText("body"), "SECRET\norders", "FLOT for a client without labels");
      assert.equal(marking(sentOf(copy)!), "SECRET", "the policy's label, re-encoded");
      await nothing(kiosk, (m) => sentOf(m)?.attrs.id === "c1");
      // UNCLASSIFIED reaches the kiosk's copy too; a note to self is delivered.
      await sendRaw(desk, message(jid("bob"), "c2", "lunch"));
      assert.equal(
        sentOf(await kiosk.waitFor((m) => sentOf(m)?.attrs.id === "c2", 8000))?.getChildText("body"),
        "lunch",
      );
      await sendRaw(desk, message(jid("alice"), "c3", "note to self", SECRET));
      assert.equal(
        (await desk.waitFor((m) => m.attrs.id === "c3" && !sentOf(m), 8000)).getChildText("body"),
        "note to self",
      );
      for (const c of [desk, phone, kiosk, bob]) await c.stop();
    });

    test(`[${kind}] a session at an uncleared site cannot send the label; UNCLASSIFIED it can`, async () => {
      const bob = await session("bob", "desk2", CLEARED_SITE, true);
      const alice = await session("alice", "kiosk", UNCLASSIFIED_SITE, true);
      await sendRaw(alice, message(jid("bob"), "q1", "from the kiosk", SECRET));
      const error = await alice.waitFor((m) => m.attrs.id === "q1" && m.attrs.type === "error", 8000);
      assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
      await nothing(bob, (m) => m.attrs.id === "q1");
      await sendRaw(alice, message(jid("bob"), "q2", "hello"));
      assert.equal(marking(await bob.waitFor((m) => m.attrs.id === "q2", 8000)), "UNCLASSIFIED");
      for (const c of [alice, bob]) await c.stop();
    });

    test(`[${kind}] an offline SECRET message waits for a login from a cleared site`, async () => {
      const alice = await session("alice", "desk3", CLEARED_SITE, true);
      // dan is offline: stored.
      await sendRaw(alice, message(jid("dan"), "o1", "while you were out", SECRET));
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(alice.received.filter((m) => m.attrs.id === "o1" && m.attrs.type === "error").length, 0);
      const kiosk = await session("dan", "kiosk", UNCLASSIFIED_SITE, true);
      await nothing(kiosk, (m) => m.attrs.id === "o1");
      await kiosk.stop();
      const desk = await session("dan", "desk", CLEARED_SITE, true);
      const got = await desk.waitFor((m) => m.attrs.id === "o1", 8000);
      // Replayed as the session announces itself: its caps may not be known yet (then FLOT).
      assert.ok(
        ["while you were out", "SECRET\nwhile you were out"].includes(got.getChildText("body") ?? ""),
        got.toString(),
      );
      assert.equal(marking(got), "SECRET");
      for (const c of [alice, desk]) await c.stop();
    });
  });
}
