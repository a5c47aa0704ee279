// Issue 15 (review leaks), on real Prosody and real ejabberd with real clients over sockets:
// owner powers follow the clearance (item 2), a room label change forgets the subject and status
// texts (item 2), rooms are discoverable only by those cleared for them (item 11), messages that
// refer to a hidden message (item 4) and FLOT in every displayed text (item 6).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, xml, type XmppServer, type TestClient, type Element } from "@cordon/harness";
import type { MemoryStore } from "@cordon/store";
import { parseElement } from "@cordon/component";
import { NS_MUC_OWNER, NS_MUC_ADMIN, type MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure, statusCodes } from "../src/muc-client.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_ITEMS = "http://jabber.org/protocol/disco#items";
const classes: Record<string, readonly string[]> = {
  olga: ALL_CLASSES,
  bob: ALL_CLASSES,
  carol: ["UNCLASSIFIED"],
};
const USERS = ["olga", "bob", "carol"] as const;
type User = (typeof USERS)[number];

/** The condition of an IQ error reply (the harness rejects with the reply). */
async function iqError(client: TestClient, iq: Element): Promise<string | undefined> {
  try {
    await client.iq(iq);
    return undefined;
  } catch (error) {
    return (error as { condition?: string }).condition;
  }
}

const ownerForm = (room: string) =>
  xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_MUC_OWNER }));
const relabel = (room: string, name: string) =>
  xml(
    "iq",
    { type: "set", to: room },
    xml(
      "query",
      { xmlns: NS_MUC_OWNER },
      xml(
        "x",
        { xmlns: "jabber:x:data", type: "submit" },
        xml("field", { var: "sec-label#label" }, xml("value", {}, name)),
      ),
    ),
  );

for (const kind of serverKinds()) {
  describe(`MUC review leaks (issue 15) on ${kind}`, () => {
    const domain = `${kind}-rev.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c = {} as Record<User, TestClient>;

    before(async () => {
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "rev", users: USERS });
      store = await single.storeWithClearances(demo, domain, USERS, (u) => classes[u]!);
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "rev", store });
      await single.connectUsers(server, USERS, c);
    });

    after(() => single.stopMucTest(Object.values(c), muc, store, server));

    test(`[${kind}] item 11: a SECRET room is not discoverable by an UNCLASSIFIED user`, async () => {
      const room = `hidden@${mucDomain}`;
      await join(c.olga, room, "Olga");
      await configure(c.olga, room, { "sec-label#label": "SECRET", "muc#roomconfig_roomname": "NIGHTFALL" });
      const listFor = async (who: TestClient) =>
        (await who.iq(xml("iq", { type: "get", to: mucDomain }, xml("query", { xmlns: NS_ITEMS }))))
          .getChild("query", NS_ITEMS)!
          .getChildren("item")
          .map((i) => i.attrs.jid);
      assert.ok((await listFor(c.bob)).includes(room));
      assert.ok(!(await listFor(c.carol)).includes(room));
      const info = xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO }));
      assert.equal(await iqError(c.carol, info), "item-not-found");
      const seen = await c.bob.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_INFO })));
      assert.equal(seen.getChild("query", NS_INFO)!.getChild("identity")!.attrs.name, "NIGHTFALL");
      assert.ok(!c.carol.received.some((s) => s.toString().includes("NIGHTFALL")));
    });

    test(`[${kind}] item 2: an owner lowered keeps no owner power; grants need a cleared grantee`, async () => {
      const room = `keep@${mucDomain}`;
      await join(c.olga, room, "Olga");
      await configure(c.olga, room, {
        "sec-label#label": "SECRET",
        "muc#roomconfig_roomsecret": "pw-SECRET-9",
        "muc#roomconfig_passwordprotectedroom": "1",
      });
      // Granting owner, admin or member to someone not cleared for the room label is refused.
      for (const affiliation of ["owner", "admin", "member"]) {
        const grant = xml(
          "iq",
          { type: "set", to: room },
          xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { affiliation, jid: `carol@${domain}` })),
        );
        assert.equal(await iqError(c.olga, grant), "not-acceptable", affiliation);
      }
      await join(c.bob, room, "Bob", [xml("password", {}, "pw-SECRET-9")]); // keeps the temporary room open
      await store.setUserClearance(`olga@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      const gone = await c.olga.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Olga` && p.attrs.type === "unavailable",
      );
      assert.ok(statusCodes(gone).includes("307"));
      assert.equal(await iqError(c.olga, ownerForm(room)), "forbidden");
      assert.equal(await iqError(c.olga, relabel(room, "UNCLASSIFIED")), "forbidden");
      assert.ok(
        !c.olga.received.some((s) => s.toString().includes("pw-SECRET-9")),
        "no password after lowering",
      );
      // The room kept its label: carol is still refused.
      const carol = await join(c.carol, room, "Carol");
      assert.equal(carol.attrs.type, "error");
      await store.setUserClearance(`olga@${domain}`, demo.raw(demo.clearance([...classes.olga!])));
      await c.bob.send(xml("presence", { to: `${room}/Bob`, type: "unavailable" }));
    });

    test(`[${kind}] item 2: relabelling a room forgets the subject and status texts written under the old label`, async () => {
      const room = `relabel@${mucDomain}`;
      await join(c.olga, room, "Olga");
      await configure(c.olga, room, { "sec-label#label": "SECRET" });
      await c.bob.send(
        xml(
          "presence",
          { to: `${room}/Bob` },
          xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
          xml("status", {}, "BOB-SECRET-STATUS"),
        ),
      );
      await c.bob.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Bob` && statusCodes(p).includes("110"),
      );
      await c.olga.send(
        xml("message", { to: room, type: "groupchat" }, xml("subject", {}, "SECRET-SUBJECT-TEXT")),
      );
      await c.bob.waitFor((m) => m.is("message") && m.getChildText("subject") === "SECRET-SUBJECT-TEXT");
      await c.olga.iq(relabel(room, "UNCLASSIFIED"));
      await join(c.carol, room, "Carol");
      const seen = c.carol.received
        .filter((s) => s.attrs.from?.startsWith(room))
        .map((s) => s.toString())
        .join("\n");
      assert.ok(seen.includes(`${room}/Bob`), "carol sees bob");
      assert.ok(!seen.includes("BOB-SECRET-STATUS"), "status text replayed");
      assert.ok(!seen.includes("SECRET-SUBJECT-TEXT"), "subject replayed");
    });

    test(`[${kind}] item 4: a correction, reply or reaction of a SECRET message reaches no UNCLASSIFIED occupant`, async () => {
      const room = `refs@${mucDomain}`;
      await join(c.bob, room, "Bob");
      await configure(c.bob, room);
      await join(c.carol, room, "Carol");
      const secret = parseElement(demo.labelXml(demo.label("SECRET")));
      await c.bob.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "sec-1" },
          xml("body", {}, "REF-SECRET-TEXT"),
          secret,
        ),
      );
      const own = await c.bob.waitFor((m) => m.is("message") && m.attrs.id === "sec-1");
      const sid = own.getChild("stanza-id", "urn:xmpp:sid:0")!.attrs.id!;
      const referring: [string, Element[]][] = [
        [
          "correction",
          [
            xml("body", {}, "REF-SECRET-CORRECTED"),
            xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "sec-1" }),
          ],
        ],
        [
          "reply",
          [
            xml("body", {}, "> REF-SECRET-TEXT\nREF-SECRET-QUOTED"),
            xml("reply", { xmlns: "urn:xmpp:reply:0", to: `${room}/Bob`, id: sid }),
            xml(
              "fallback",
              { xmlns: "urn:xmpp:fallback:0", for: "urn:xmpp:reply:0" },
              xml("body", { start: "0", end: "18" }),
            ),
          ],
        ],
        [
          "reaction",
          [xml("reactions", { xmlns: "urn:xmpp:reactions:0", id: sid }, xml("reaction", {}, "👍"))],
        ],
      ];
      for (const [what, payload] of referring) {
        await c.bob.send(xml("message", { to: room, type: "groupchat", id: `ref-${what}` }, ...payload));
        const answer = await c.bob.waitFor((m) => m.is("message") && m.attrs.id === `ref-${what}`);
        assert.equal(answer.attrs.type, "error", what);
        assert.ok(answer.getChild("error")!.getChild("forbidden"), what);
        assert.ok(
          !answer.toString().includes(sid) && !answer.toString().includes("REF-SECRET"),
          `${what}: echoed`,
        );
      }
      // The same, labelled SECRET, reaches bob (cleared), never carol.
      await c.bob.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "ref-ok" },
          xml("body", {}, "REF-SECRET-CORRECTED"),
          xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "sec-1" }),
          parseElement(demo.labelXml(demo.label("SECRET"))),
        ),
      );
      await c.bob.waitFor((m) => m.is("message") && m.attrs.id === "ref-ok" && m.attrs.type === "groupchat");
      await c.bob.send(
        xml("message", { to: room, type: "groupchat", id: "ref-end" }, xml("body", {}, "end")),
      );
      await c.carol.waitFor((m) => m.is("message") && m.attrs.id === "ref-end");
      const seen = c.carol.received.map((s) => s.toString()).join("\n");
      assert.ok(
        !seen.includes("REF-SECRET") && !seen.includes(sid),
        "carol saw SECRET text or its stanza-id",
      );
    });

    test(`[${kind}] item 6: a label-unaware client sees the marking with an OOB link without body, a PM subject and an invitation reason`, async () => {
      const room = `flot@${mucDomain}`;
      await join(c.olga, room, "Olga");
      await configure(c.olga, room);
      await join(c.bob, room, "Bob");
      const secret = () => parseElement(demo.labelXml(demo.label("SECRET")));
      await c.olga.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "oob-1" },
          xml(
            "x",
            { xmlns: "jabber:x:oob" },
            xml("url", {}, "https://files.test/plan.pdf"),
            xml("desc", {}, "OOB-DESC"),
          ),
          secret(),
        ),
      );
      const oob = await c.bob.waitFor((m) => m.is("message") && m.attrs.id === "oob-1");
      assert.equal(oob.getChildText("body"), "SECRET");
      assert.equal(oob.getChild("x", "jabber:x:oob")!.getChildText("desc"), "SECRET\nOOB-DESC");
      await c.olga.send(
        xml(
          "message",
          { to: `${room}/Bob`, type: "chat", id: "pm-1" },
          xml("subject", {}, "PM-SUBJECT"),
          xml("body", {}, "PM-BODY"),
          secret(),
        ),
      );
      const pm = await c.bob.waitFor((m) => m.is("message") && m.attrs.id === "pm-1");
      assert.equal(pm.getChildText("subject"), "SECRET\nPM-SUBJECT");
      assert.equal(pm.getChildText("body"), "SECRET\nPM-BODY");
      await c.bob.send(xml("presence", { to: `${room}/Bob`, type: "unavailable" }));
      await c.olga.send(
        xml(
          "message",
          { to: room, id: "inv-1" },
          xml(
            "x",
            { xmlns: "http://jabber.org/protocol/muc#user" },
            xml("invite", { to: `bob@${domain}` }, xml("reason", {}, "INVITE-REASON")),
          ),
        ),
      );
      const invitation = await c.bob.waitFor(
        (m) =>
          m.is("message") &&
          m.attrs.from === room &&
          m.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("invite") !== undefined,
      );
      assert.equal(
        invitation
          .getChild("x", "http://jabber.org/protocol/muc#user")!
          .getChild("invite")!
          .getChildText("reason"),
        "UNCLASSIFIED\nINVITE-REASON",
      );
    });
  });
}
