// Adversarial review adv17b of issue 17 (the guard's client-location rule in labelled rooms), on
// real Prosody and real ejabberd: what the located MUC still handed a session at a site not cleared
// for it. Clients connect from 127.0.0.1 (cleared for everything) or 127.0.0.2 (UNCLASSIFIED only);
// the MUC is among the module's trusted components, so nothing it sends is judged by the guard.
//   X1 a mediated invitation (XEP-0045 §7.8.2) goes to the invitee's bare JID, so the server hands
//      it to whichever session it picks — the annex session got a SECRET invitation, its reason and
//      the room's password (fails on the old MUC).
//   X2 discovery (XEP-0045 §6.3/§6.4) asked from the annex session named and described a SECRET
//      room (fails on the old MUC).
//   X3 a SECRET private message to the cleared session is not carbon-copied (XEP-0280) to the same
//      user's annex session.
//   X4 a second session of the same user cannot take the cleared session's nick (the location is
//      per session: the MUC keeps one occupant per full JID).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  IqErrorResponse,
  sendRaw,
  serverKinds,
  xml,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { createComponent, type Element } from "@cordon/component";
import type { GuardService } from "@cordon/guard";
import { DEFAULT_ROOM_CONFIG, type MucService } from "@cordon/muc";
import { MemoryStore } from "@cordon/store";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { errorCondition, joinRoom, configureRoom } from "../src/muc-client.js";

const demo = loadDemo();
const PASSWORD = "muclocx-pw";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";

for (const kind of serverKinds()) {
  describe(`labelled rooms and client locations, adversarial (adv17b) on ${kind}`, () => {
    const domain = `${kind}-muclocx.test`;
    const rooms = `rooms.${domain}`;
    const secretRoom = `vault@${rooms}`;
    const openRoom = `lobby@${rooms}`;
    const store = new MemoryStore();
    let server: XmppServer;
    let guard: GuardService;
    let muc: MucService;
    const open: TestClient[] = [];
    // The two sites, and any other address UNCLASSIFIED only (otherLocations): an invitation that
    // is UNCLASSIFIED in an UNCLASSIFIED room may reach wherever the invitee is.
    const sites = {
      locations: guarded.twoSites(demo),
      otherLocations: demo.clearance(["UNCLASSIFIED"]),
    };
    const session = (user: string, resource: string, site: string) =>
      guarded.openSession(server, open, PASSWORD, user, resource, site);
    const invitations = (client: TestClient, room: string) =>
      client.received.filter(
        (m) => m.is("message") && m.attrs.from === room && m.getChild("x", NS_MUC_USER)?.getChild("invite"),
      );

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob"],
          password: PASSWORD,
          guard: { timeoutSeconds: 2, trusted: [rooms] },
        },
        {
          components: [{ domain: rooms, secret: "rooms" }],
          extraModules: kind === "prosody" ? ["carbons"] : ["mod_carboncopy"],
        },
      );
      guard = await guarded.startGuard(demo, server, domain, { store, ...sites });
      muc = await startDemoMuc(demo, {
        server,
        component: createComponent({
          service: `xmpp://127.0.0.1:${server.componentPort}`,
          domain: rooms,
          secret: "rooms",
          reconnect: { initialMs: 100, maxMs: 1000 },
        }),
        mucDomain: rooms,
        localDomain: domain,
        secret: "rooms",
        store,
        locations: sites,
        settings: { roomDefaults: { ...DEFAULT_ROOM_CONFIG, historyLength: 20 } },
      });
    });

    after(async () => {
      await muc?.stop();
      await guarded.stopGuarded(server, guard, open);
    });

    test(`[${kind}] X1: a mediated invitation to a SECRET room, or carrying SECRET, does not reach the invitee's annex session`, async () => {
      const bob = await session("bob", "desk", CLEARED_SITE);
      // alice is online at the annex only: the server hands her bare JID's messages to that session.
      const annex = await session("alice", "annex", UNCLASSIFIED_SITE);
      await joinRoom(bob, secretRoom, "bob");
      await configureRoom(bob, secretRoom, {
        "sec-label#label": "SECRET",
        "muc#roomconfig_passwordprotectedroom": "1",
        "muc#roomconfig_roomsecret": "s3cret",
      });
      await joinRoom(bob, openRoom, "bob");
      await configureRoom(bob, openRoom);
      const invite = (room: string, id: string, reason: string, label?: string) =>
        sendRaw(
          bob,
          `<message to='${room}' id='${id}'><x xmlns='${NS_MUC_USER}'><invite to='alice@${domain}'><reason>${reason}</reason></invite></x>${label ? demo.labelXml(demo.label(label)) : ""}</message>`,
        );
      await invite(secretRoom, "x1-secret-room", "the vault plan");
      await invite(openRoom, "x1-secret-label", "the lobby secret", "SECRET");
      // An invitation the annex may have: UNCLASSIFIED room, UNCLASSIFIED reason. The room and the
      // server keep the order, so once it is in the two before it would be too.
      await invite(openRoom, "x1-plain", "coffee", "UNCLASSIFIED");
      await annex.waitFor((m) => m.is("message") && m.attrs.id === "x1-plain", 8000);
      assert.equal(
        invitations(annex, secretRoom).length,
        0,
        "the annex session got the SECRET room's invitation",
      );
      assert.equal(
        annex.received.filter((m) => m.attrs.id === "x1-secret-label").length,
        0,
        "the annex session got the SECRET-labelled invitation",
      );
      assert.ok(
        !annex.received.some(
          (s: Element) => s.toString().includes("s3cret") || s.toString().includes("vault plan"),
        ),
        "the SECRET room's password or reason reached the annex",
      );
      // The inviter is told, with our text only.
      for (const id of ["x1-secret-room", "x1-secret-label"]) {
        const refused = await bob.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
        assert.equal(errorCondition(refused), "forbidden", id);
        assert.ok(!refused.toString().includes("vault plan") && !refused.toString().includes("lobby secret"));
      }
    });

    test(`[${kind}] X2: the annex session does not discover a SECRET room; the cleared session does`, async () => {
      const annex = await session("alice", "annex2", UNCLASSIFIED_SITE);
      const hq = await session("alice", "hq2", CLEARED_SITE);
      const crypt = `crypt@${rooms}`;
      await joinRoom(hq, crypt, "alice");
      await configureRoom(hq, crypt, { "sec-label#label": "SECRET", "muc#roomconfig_roomdesc": "the crypt" });
      const info = (client: TestClient) =>
        client.iq(xml("iq", { type: "get", to: crypt }, xml("query", { xmlns: NS_DISCO_INFO })));
      const items = async (client: TestClient) =>
        (await client.iq(xml("iq", { type: "get", to: rooms }, xml("query", { xmlns: NS_DISCO_ITEMS }))))
          .getChild("query", NS_DISCO_ITEMS)
          ?.getChildren("item")
          .map((i) => i.attrs.jid) ?? [];
      const described = await info(annex).catch((e: unknown) => e);
      assert.ok((await info(hq)).toString().includes("the crypt"), "the cleared session discovers it");
      assert.ok((await items(hq)).includes(crypt));
      assert.ok(described instanceof IqErrorResponse, `the annex session was told: ${String(described)}`);
      assert.equal(described.condition, "item-not-found");
      assert.ok(!(await items(annex)).includes(crypt), "the annex session listed the SECRET room");
    });

    test(`[${kind}] X3: a SECRET private message to the cleared session is not carbon-copied to the annex session`, async () => {
      const bob = await session("bob", "desk3", CLEARED_SITE);
      const hq = await session("alice", "hq3", CLEARED_SITE);
      const annex = await session("alice", "annex3", UNCLASSIFIED_SITE);
      for (const c of [hq, annex])
        await c.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })));
      const pmRoom = `pm@${rooms}`;
      await joinRoom(bob, pmRoom, "bob3");
      await configureRoom(bob, pmRoom);
      await joinRoom(hq, pmRoom, "alice3");
      await joinRoom(annex, pmRoom, "annex3");
      const pm = (id: string, label: string) =>
        sendRaw(
          bob,
          `<message to='${pmRoom}/alice3' type='chat' id='${id}'><body>pm ${id}</body><x xmlns='${NS_MUC_USER}'/>${demo.labelXml(demo.label(label))}</message>`,
        );
      await pm("x3-secret", "SECRET");
      await pm("x3-plain", "UNCLASSIFIED");
      await hq.waitFor((m) => m.is("message") && m.attrs.id === "x3-plain", 8000);
      await hq.waitFor((m) => m.is("message") && m.attrs.id === "x3-secret", 8000);
      // Sent in order: the SECRET PM's carbon (if any) is written before the UNCLASSIFIED one's. An
      // UNCLASSIFIED PM directly to the annex occupant comes after both.
      await sendRaw(
        bob,
        `<message to='${pmRoom}/annex3' type='chat' id='x3-after'><body>after</body><x xmlns='${NS_MUC_USER}'/></message>`,
      );
      await annex.waitFor((m) => m.is("message") && m.attrs.id === "x3-after", 8000);
      assert.ok(
        !annex.received.some((s: Element) => s.toString().includes("pm x3-secret")),
        "the annex session got the SECRET private message as a carbon",
      );
    });

    test(`[${kind}] X5: the same full JID bound again from the annex (the cleared session replaced) is no longer the cleared occupant`, async () => {
      const bob = await session("bob", "desk5", CLEARED_SITE);
      const hq = await session("alice", "same5", CLEARED_SITE);
      const ghostRoom = `ghost@${rooms}`;
      await joinRoom(bob, ghostRoom, "bob5");
      await configureRoom(bob, ghostRoom);
      assert.notEqual((await joinRoom(hq, ghostRoom, "alice5")).attrs.type, "error");
      // A new session binds alice/same5 from the annex: the server replaces the old one (RFC 6120
      // §7.7.2.2) without the client leaving the room.
      const annex = await session("alice", "same5", UNCLASSIFIED_SITE);
      assert.equal(annex.jid, hq.jid);
      await sendRaw(
        bob,
        `<message to='${ghostRoom}' type='groupchat' id='x5-secret'><body>ghost secret</body>${demo.labelXml(demo.label("SECRET"))}</message>`,
      );
      await bob.waitFor((m) => m.attrs.id === "x5-secret" && m.attrs.type === "groupchat", 8000);
      // The annex session joins now: what the room sent the old occupant before is in by then.
      const self = await joinRoom(annex, ghostRoom, "annex5");
      assert.notEqual(self.attrs.type, "error", "a fresh join, located at the annex");
      assert.ok(
        !annex.received.some((s: Element) => s.toString().includes("ghost secret")),
        "the annex session got SECRET as the cleared occupant",
      );
    });

    test(`[${kind}] X4: another session of the same user cannot take the cleared session's nick`, async () => {
      const hq = await session("alice", "hq4", CLEARED_SITE);
      const annex = await session("alice", "annex4", UNCLASSIFIED_SITE);
      assert.notEqual((await joinRoom(hq, openRoom, "alice4")).attrs.type, "error");
      const second = await joinRoom(annex, openRoom, "alice4");
      assert.equal(second.attrs.type, "error");
      assert.equal(errorCondition(second), "conflict");
    });
  });
}
