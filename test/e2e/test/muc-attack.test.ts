// Adversarial review of the labelled MUC (issue 15, "attack it with fresh eyes"), on real Prosody
// and real ejabberd with real clients. Each test is a leak the review found, reproduced as it was
// found: it failed on the code before its fix.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, xml, type XmppServer, type TestClient, type Element } from "@cordon/harness";
import type { MemoryStore } from "@cordon/store";
import { parseElement } from "@cordon/component";
import { NS_MUC_OWNER, NS_SEC_LABEL_CATALOG, type MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure, statusCodes } from "../src/muc-client.js";
import { pollUntil } from "../src/muc-service-fixture.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const USERS = ["owner", "carol", "low", "dave"];

const until = (check: () => boolean, what: string, timeoutMs = 5000) => pollUntil(check, what, timeoutMs, 20);

const submitForm = (fields: Record<string, string>): Element => {
  const form = xml("x", { xmlns: "jabber:x:data", type: "submit" });
  for (const [k, v] of Object.entries(fields)) form.append(xml("field", { var: k }, xml("value", {}, v)));
  return xml("query", { xmlns: NS_MUC_OWNER }, form);
};

for (const kind of serverKinds()) {
  describe(`MUC adversarial review on ${kind}`, () => {
    const domain = `${kind}-attack.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    let startMuc: () => Promise<void>;
    const c: Record<string, TestClient> = {};
    // Room records written while `holdRooms` is set wait until released: a slow (hung) store.
    let holdRooms = false;
    // Service clearance reads wait too while `holdService` is set.
    let holdService = false;
    const waiting: (() => void)[] = [];
    const releaseAll = () => waiting.splice(0).forEach((release) => release());

    before(async () => {
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "attack", users: USERS });
      store = await single.storeWithClearances(demo, domain, USERS, (u) =>
        u === "low" ? ["UNCLASSIFIED"] : ALL_CLASSES,
      );
      const slow = single.slowStore(store, waiting, {
        putRoom: () => holdRooms,
        getServiceClearance: () => holdService,
      });
      startMuc = async () => {
        muc = await startDemoMuc(demo, {
          server,
          mucDomain,
          localDomain: domain,
          secret: "attack",
          store: slow,
        });
      };
      await startMuc();
      await single.connectUsers(server, USERS, c);
    });

    after(async () => {
      holdRooms = false;
      holdService = false;
      releaseAll();
      await single.stopMucTest(Object.values(c), muc, store, server);
    });

    test(`[${kind}] a raised room label removes uncleared occupants before the room record is written`, async () => {
      const room = `raise@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, { "muc#roomconfig_persistentroom": "1" });
      await join(c.carol!, room, "Carol");
      await join(c.low!, room, "Low");
      // The owner raises the room label to SECRET while the store is slow to write the record.
      holdRooms = true;
      const raised = c.owner!.iq(
        xml("iq", { type: "set", to: room }, submitForm({ "sec-label#label": "SECRET" })),
      );
      await until(() => waiting.length > 0, "the room record is being written");
      // Carol's status is written in a room now labelled SECRET: Low is not cleared for it.
      await c.carol!.send(xml("presence", { to: `${room}/Carol` }, xml("status", {}, "RAISED-STATUS")));
      await c.owner!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Carol` &&
          p.getChildText("status") === "RAISED-STATUS",
      );
      await new Promise((r) => setTimeout(r, 300));
      holdRooms = false;
      releaseAll();
      await raised;
      const removed = await c.low!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.from === `${room}/Low` &&
          p.attrs.type === "unavailable" &&
          statusCodes(p).includes("307"),
      );
      assert.ok(removed);
      assert.equal(
        c.low!.received.some((s) => s.toString().includes("RAISED-STATUS")),
        false,
        "a status written under the raised label reached an occupant it no longer admits",
      );
    });

    test(`[${kind}] a room's catalog tells a requester not cleared for its label nothing (not its name)`, async () => {
      const room = `vault@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {
        "sec-label#label": "SECRET",
        "muc#roomconfig_roomname": "NIGHTFALL-NAME",
      });
      const ask = (client: TestClient, to: string, target: string) =>
        client
          .iq(xml("iq", { type: "get", to }, xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: target })))
          .then(
            (result) => ({ result, error: undefined }),
            (e: { condition?: string; stanza?: Element }) => ({ result: undefined, error: e }),
          );
      // Cleared: the catalog, named after the room.
      const cleared = await ask(c.carol!, room, room);
      assert.ok(cleared.result?.toString().includes("NIGHTFALL-NAME"), "the cleared requester's catalog");
      // Not cleared — asking the room, or the service naming the room: as if it did not exist.
      for (const to of [room, mucDomain]) {
        const low = await ask(c.low!, to, room);
        assert.equal(low.result, undefined, `a catalog answered (${low.result?.toString()})`);
        assert.equal(low.error?.condition, "item-not-found");
        assert.equal(low.error?.stanza?.toString().includes("NIGHTFALL"), false);
      }
      assert.equal(
        c.low!.received.some((s) => s.toString().includes("NIGHTFALL")),
        false,
        "the room's name reached a requester not cleared for its label",
      );
    });

    test(`[${kind}] history and the archive replay nothing the service clearance no longer covers`, async () => {
      const room = `past@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      await c.owner!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "past-1" },
          xml("body", {}, "PAST-SECRET"),
          parseElement(demo.labelXml(demo.label("SECRET"))),
        ),
      );
      await c.owner!.waitFor((m) => m.attrs.id === "past-1" && m.attrs.type === "groupchat");
      // The operator lowers the MUC's service clearance: live SECRET messages are refused from now on
      // (item 12), and what was said before must not be handed out either.
      await store.setServiceClearance(mucDomain, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      try {
        await c.owner!.send(
          xml(
            "message",
            { to: room, type: "groupchat", id: "past-2" },
            xml("body", {}, "NOW-SECRET"),
            parseElement(demo.labelXml(demo.label("SECRET"))),
          ),
        );
        assert.equal((await c.owner!.waitFor((m) => m.attrs.id === "past-2")).attrs.type, "error");
        await join(c.carol!, room, "Carol");
        const NS_MAM = "urn:xmpp:mam:2";
        await c.carol!.iq(
          xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MAM, queryid: "past-q" })),
        );
        assert.equal(
          c.carol!.received.some((s) => s.toString().includes("PAST-SECRET")),
          false,
          "a SECRET message was replayed by a service no longer cleared for SECRET",
        );
      } finally {
        await store.deleteServiceClearance(mucDomain);
      }
    });

    test(`[${kind}] an owner's "none" default label refuses unlabelled messages (not the service's default)`, async () => {
      const room = `strict@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {
        "muc#roomconfig_persistentroom": "1",
        "sec-label#default-label": "none",
      });
      await join(c.low!, room, "Low");
      // The form shows the choice as made...
      const form = await c.owner!.iq(
        xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER })),
      );
      const field = form
        .getChild("query", NS_MUC_OWNER)
        ?.getChild("x", "jabber:x:data")
        ?.getChildren("field")
        .find((f) => f.attrs.var === "sec-label#default-label");
      assert.equal(field?.getChildText("value"), "none");
      // ...and unlabelled messages are refused, not given the service's UNCLASSIFIED.
      await c.owner!.send(
        xml("message", { to: room, type: "groupchat", id: "strict-1" }, xml("body", {}, "UNLABELLED-TEXT")),
      );
      const answer = await c.owner!.waitFor((m) => m.attrs.id === "strict-1");
      assert.equal(
        answer.attrs.type,
        "error",
        "an unlabelled message was accepted in a room that refuses them",
      );
      assert.equal(answer.toString().includes("UNLABELLED-TEXT"), false);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(
        c.low!.received.some((s) => s.toString().includes("UNLABELLED-TEXT")),
        false,
        "an unlabelled message reached an occupant under the service's default label",
      );
      // The room record keeps the choice (a restart or another instance reads it the same way).
      const record = await store.getRoom(room);
      assert.equal(record?.config.refuseUnlabelled, true);
    });

    test(`[${kind}] after a restart, a reply quoting a message from before it is not judged on its own label alone`, async () => {
      const room = `memory@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      // Persistent, no history kept: the SECRET message below is known to the room only while it runs.
      await configure(c.owner!, room, { "muc#roomconfig_persistentroom": "1", "muc#maxhistoryfetch": "0" });
      await c.owner!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "before-1" },
          xml("body", {}, "BEFORE-SECRET"),
          parseElement(demo.labelXml(demo.label("SECRET"))),
        ),
      );
      const echo = await c.owner!.waitFor((m) => m.attrs.id === "before-1" && m.attrs.type === "groupchat");
      const sid = echo.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id;
      assert.ok(sid);
      // The component restarts (an upgrade, a failover); the clients keep what they were shown.
      await muc.stop();
      await startMuc();
      await join(c.owner!, room, "Owner");
      await join(c.low!, room, "Low");
      // The owner's client replies to it (XEP-0461, XEP-0428 fallback quote) without choosing a label.
      const quote = "> BEFORE-SECRET\n";
      await c.owner!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "after-1" },
          xml("body", {}, `${quote}agreed`),
          xml("reply", { xmlns: "urn:xmpp:reply:0", to: `${room}/Owner`, id: sid }),
          xml(
            "fallback",
            { xmlns: "urn:xmpp:fallback:0", for: "urn:xmpp:reply:0" },
            xml("body", { start: "0", end: String(quote.length) }),
          ),
        ),
      );
      const answer = await c.owner!.waitFor((m) => m.attrs.id === "after-1");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(
        c.low!.received.some((s) => s.toString().includes("BEFORE-SECRET")),
        false,
        "a reply quoting a SECRET message from before the restart reached an UNCLASSIFIED occupant",
      );
      assert.equal(answer.attrs.type, "error");
      assert.equal(answer.toString().includes("BEFORE-SECRET"), false);
    });

    test(`[${kind}] an invitee lowered while the invitation is decided gets no invitation (reason, password)`, async () => {
      const room = `brief@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {
        "sec-label#label": "SECRET",
        "muc#roomconfig_passwordprotectedroom": "1",
        "muc#roomconfig_roomsecret": "ROOM-PASSWORD",
      });
      // Any clearance notification empties the reader's cache: the service clearance is read anew.
      holdService = true;
      await store.setUserClearance(`carol@${domain}`, demo.raw(demo.clearance(ALL_CLASSES)));
      await c.owner!.send(
        xml(
          "message",
          { to: room, id: "inv-1" },
          xml(
            "x",
            { xmlns: "http://jabber.org/protocol/muc#user" },
            xml("invite", { to: `dave@${domain}` }, xml("reason", {}, "INVITE-REASON")),
          ),
        ),
      );
      await until(() => waiting.length > 0, "the service clearance is being read");
      // Dave is lowered below the room label meanwhile.
      await store.setUserClearance(`dave@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      holdService = false;
      releaseAll();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(
        c.dave!.received.some(
          (s) => s.toString().includes("INVITE-REASON") || s.toString().includes("ROOM-PASSWORD"),
        ),
        false,
        "an invitation reached an invitee lowered below the room label before it was sent",
      );
    });

    test(`[${kind}] a room whose label the service clearance no longer covers is not entered (its subject stays in)`, async () => {
      const room = `above@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      // Persistent: it stays when its occupants are removed (below), and is asked to be entered again.
      await configure(c.owner!, room, { "sec-label#label": "SECRET", "muc#roomconfig_persistentroom": "1" });
      await c.owner!.send(
        xml("message", { to: room, type: "groupchat", id: "above-s" }, xml("subject", {}, "ABOVE-SUBJECT")),
      );
      await c.owner!.waitFor((m) => m.getChildText("subject") === "ABOVE-SUBJECT");
      await store.setServiceClearance(mucDomain, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      try {
        const answer = await join(c.carol!, room, "Carol");
        assert.equal(
          answer.attrs.type,
          "error",
          "entered a SECRET room of a service cleared for UNCLASSIFIED",
        );
        assert.equal(
          c.carol!.received.some((s) => s.toString().includes("ABOVE-SUBJECT")),
          false,
          "the subject of a room above the service clearance reached a joiner",
        );
      } finally {
        await store.deleteServiceClearance(mucDomain);
      }
    });

    test(`[${kind}] occupants of a room the service clearance no longer covers are removed`, async () => {
      const room = `lowered@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, { "sec-label#label": "SECRET" });
      await join(c.carol!, room, "Carol");
      await store.setServiceClearance(mucDomain, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      try {
        const removed = await c.carol!.waitFor(
          (p) =>
            p.is("presence") &&
            p.attrs.from === `${room}/Carol` &&
            p.attrs.type === "unavailable" &&
            statusCodes(p).includes("307"),
        );
        assert.ok(removed);
        assert.equal(muc.rooms.get(room)?.occupants.size ?? 0, 0);
      } finally {
        await store.deleteServiceClearance(mucDomain);
      }
    });
  });
}
