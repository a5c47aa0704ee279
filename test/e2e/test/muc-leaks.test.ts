// Issue 15, on real Prosody and real ejabberd: paths around the core checks by which room content
// could reach someone it must not. An occupant whose clearance is unknown (here: a stored value
// that does not read, as when the store cannot answer for it) gets no room content — not the reason
// of a role change, not the subject in disco#info, not the destroy reason (item 3); config-form
// errors never quote what was submitted (item 8); the store's service clearance bounds messages as
// it bounds the catalog (item 12).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import type { MemoryStore } from "@cordon/store";
import { parseElement } from "@cordon/component";
import { NS_MUC_USER, NS_MUC_OWNER, NS_MUC_ADMIN, type MucService } from "@cordon/muc";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join, configureRoom as configure } from "../src/muc-client.js";
import { groupchat } from "../src/muc-cluster-fixture.js";
import { pollUntil } from "../src/muc-service-fixture.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const USERS = ["owner", "known", "dark", "low"];

const until = pollUntil;

const fromRoom = (room: string) => (s: Element) => s.attrs.from?.startsWith(room) === true;

for (const kind of serverKinds()) {
  describe(`MUC leak paths on ${kind}`, () => {
    const domain = `${kind}-leaks.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c: Record<string, TestClient> = {};

    before(async () => {
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "leaks", users: USERS });
      store = await single.storeWithClearances(demo, domain, USERS, (u) =>
        u === "low" ? ["UNCLASSIFIED"] : ALL,
      );
      muc = await startDemoMuc(demo, { server, mucDomain, localDomain: domain, secret: "leaks", store });
      await single.connectUsers(server, USERS, c);
    });

    after(async () => {
      await single.stopMucTest(Object.values(c), muc, store, server);
    });

    test(`[${kind}] item 8: config-form errors name the field, never the submitted value`, async () => {
      const room = `form@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      for (const field of ["muc#roomconfig_publicroom", "sec-label#label"]) {
        const form = xml(
          "x",
          { xmlns: "jabber:x:data", type: "submit" },
          xml("field", { var: field }, xml("value", {}, "ECHO-ME-<b>")),
        );
        const error = await c
          .owner!.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, form)))
          .then(
            () => assert.fail("accepted"),
            (e: { stanza?: Element }) => e.stanza,
          );
        assert.ok(error, field);
        assert.equal(error.toString().includes("ECHO-ME"), false, `${field}: ${error.toString()}`);
      }
    });

    test(`[${kind}] item 7: SECRET traffic does not push UNCLASSIFIED history out`, async () => {
      const room = `hist@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, { "muc#maxhistoryfetch": "5" });
      const say = async (id: string, body: string, secret: boolean) => {
        await c.owner!.send(
          xml(
            "message",
            { to: room, type: "groupchat", id },
            xml("body", {}, body),
            ...(secret ? [parseElement(demo.labelXml(demo.label("SECRET")))] : []),
          ),
        );
        await c.owner!.waitFor((m) => m.attrs.id === id && m.attrs.type === "groupchat");
      };
      for (let i = 0; i < 5; i++) await say(`u${i}`, `UNCLASSIFIED-${i}`, false);
      for (let i = 0; i < 10; i++) await say(`s${i}`, `SECRET-${i}`, true);
      await join(c.low!, room, "Low");
      const replayed = c
        .low!.received.filter(
          (m) => m.is("message") && m.attrs.from?.startsWith(`${room}/`) && m.getChild("body"),
        )
        .map((m) => m.getChildText("body") ?? "");
      assert.equal(replayed.filter((b) => b.includes("SECRET-")).length, 0);
      for (let i = 0; i < 5; i++)
        assert.ok(
          replayed.some((b) => b.includes(`UNCLASSIFIED-${i}`)),
          `UNCLASSIFIED-${i} not replayed (${replayed.length} replayed)`,
        );
    });

    test(`[${kind}] item 12: the store's service clearance of the MUC domain bounds messages`, async () => {
      const room = `bound@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      await store.setServiceClearance(mucDomain, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      try {
        const secret = demo.labelXml(demo.label("SECRET"));
        await c.owner!.send(
          xml(
            "message",
            { to: room, type: "groupchat", id: "svc-1" },
            xml("body", {}, "SVC-TEXT"),
            parseElement(secret),
          ),
        );
        const answer = await c.owner!.waitFor((m) => m.attrs.id === "svc-1");
        assert.equal(answer.attrs.type, "error");
        assert.equal(answer.toString().includes("SVC-TEXT"), false);
      } finally {
        await store.deleteServiceClearance(mucDomain);
      }
    });

    test(`[${kind}] item 3: an occupant whose clearance is unknown gets no reason, subject or destroy reason`, async () => {
      const room = `dim@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      await join(c.known!, room, "Known");
      await join(c.dark!, room, "Dark");
      await c.owner!.send(
        xml("message", { to: room, type: "groupchat", id: "subj" }, xml("subject", {}, "SUBJECT-TEXT")),
      );
      await c.dark!.waitFor((m) => m.getChildText("subject") === "SUBJECT-TEXT");
      // Dark's stored clearance stops reading: unknown from now on (fail closed), still in the room.
      await store.setUserClearance(`dark@${domain}`, { encoding: "ber", data: "AAAA" });
      await until(
        () => muc.rooms.get(room)?.occupants.get("Dark")?.clearance.status === "unknown",
        "Dark's clearance turns unknown",
      );
      // disco#info: the subject only for occupants whose clearance is known.
      const subjectOf = async (client: TestClient) => {
        const info = await client.iq(
          xml(
            "iq",
            { type: "get", to: room },
            xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
          ),
        );
        return info.toString().includes("SUBJECT-TEXT");
      };
      // (One whose clearance is unknown may be refused disco#info altogether: no subject either.)
      const subjectOrRefused = (client: TestClient) =>
        subjectOf(client).catch((e: { stanza?: Element }) => {
          assert.ok(e.stanza, "refused without a stanza");
          assert.equal(e.stanza.toString().includes("SUBJECT-TEXT"), false);
          return false;
        });
      assert.equal(await subjectOf(c.known!), true);
      assert.equal(await subjectOrRefused(c.dark!), false);
      // A role change that removes no one: its reason to occupants whose clearance is known only.
      await c.owner!.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml(
            "query",
            { xmlns: NS_MUC_ADMIN },
            xml("item", { nick: "Known", role: "visitor" }, xml("reason", {}, "ROLE-REASON")),
          ),
        ),
      );
      const isVisitor = (p: Element) =>
        p.is("presence") &&
        p.attrs.from === `${room}/Known` &&
        p.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role === "visitor";
      const toKnown = await c.known!.waitFor(isVisitor);
      assert.ok(toKnown.toString().includes("ROLE-REASON"));
      const toDark = await c.dark!.waitFor(isVisitor);
      assert.equal(toDark.toString().includes("ROLE-REASON"), false);
      // Destroy: the reason and alternate venue to occupants whose clearance is known only.
      await c.owner!.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml(
            "query",
            { xmlns: NS_MUC_OWNER },
            xml("destroy", { jid: `elsewhere@${mucDomain}` }, xml("reason", {}, "DESTROY-REASON")),
          ),
        ),
      );
      const destroyed = (p: Element) =>
        p.is("presence") &&
        p.attrs.type === "unavailable" &&
        p.getChild("x", NS_MUC_USER)?.getChild("destroy") !== undefined;
      const goneKnown = await c.known!.waitFor(destroyed);
      assert.ok(goneKnown.toString().includes("DESTROY-REASON"));
      const goneDark = await c.dark!.waitFor(destroyed);
      assert.equal(goneDark.toString().includes("DESTROY-REASON"), false);
      assert.equal(goneDark.toString().includes("elsewhere@"), false);
      assert.equal(
        c.dark!.received.filter(fromRoom(room)).some((s) => s.toString().includes("ROLE-REASON")),
        false,
      );
    });
  });

  describe(`MUC clearance races on ${kind} (a slow directory)`, () => {
    const domain = `${kind}-races.test`;
    const remote = `far-${kind}-races.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let store: MemoryStore;
    let muc: MucService;
    const c: Record<string, TestClient> = {};
    let stranger: TestClient;
    // Reads of these JIDs' (or domains') clearances wait until released: a directory under load.
    const heldUsers = new Set<string>();
    const heldPeers = new Set<string>();
    const waiting: (() => void)[] = [];
    const releaseAll = () => waiting.splice(0).forEach((release) => release());

    before(async () => {
      const users = ["owner", "bob"];
      server = await single.startMucServer(
        kind,
        { domain, mucDomain, secret: "races", users },
        { extraDomains: [remote] },
      );
      await server.addUser("stranger", "stranger-pw", remote);
      store = await single.storeWithClearances(demo, domain, users, () => ALL);
      // Users of the other domain have no clearance of their own: they get the peer's (everything).
      await store.setPeerClearance(remote, "inbound", demo.raw(demo.clearance(ALL)));
      // The MUC reads through a store whose answers for held JIDs are slow.
      const slow = single.slowStore(store, waiting, {
        getPeerClearance: (d: string) => heldPeers.has(d),
        getUserClearance: (jid: string) => heldUsers.has(jid),
      });
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "races",
        store: slow,
      });
      await single.connectUsers(server, users, c);
      stranger = await connectClient(
        { host: server.host, c2sPort: server.c2sPort, domain: remote } as XmppServer,
        "stranger",
        "stranger-pw",
      );
    });

    after(async () => {
      releaseAll();
      await single.stopMucTest([...Object.values(c), stranger], muc, store, server);
    });

    test(`[${kind}] item 1: a user lowered while the directory is slow receives nothing labelled from the notification on`, async () => {
      const room = `ops@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, {});
      await join(c.bob!, room, "Bob");
      // Bob is lowered; his re-read is slow. A SECRET message meanwhile must not reach him.
      heldUsers.add(`bob@${domain}`);
      await store.setUserClearance(`bob@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await c.owner!.send(groupchat(room, "race-1", "RACE-SECRET", demo.label("SECRET"), demo));
      await c.owner!.waitFor((m) => m.attrs.id === "race-1" && m.attrs.type === "groupchat");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        c.bob!.received.some((s) => s.toString().includes("RACE-SECRET")),
        false,
        "a SECRET message reached Bob after his lowering was notified",
      );
      heldUsers.clear();
      releaseAll();
      await until(
        () => muc.rooms.get(room)?.occupants.get("Bob")?.clearance.status === "known",
        "Bob's re-read answers",
      );
    });

    test(`[${kind}] item 1: a remote user given a lower clearance of their own during a slow join is judged on it`, async () => {
      const room = `vault@${mucDomain}`;
      await join(c.owner!, room, "Owner");
      await configure(c.owner!, room, { "sec-label#label": "SECRET" });
      await c.owner!.send(groupchat(room, "vault-1", "VAULT-HISTORY", demo.label("SECRET"), demo));
      await c.owner!.waitFor((m) => m.attrs.id === "vault-1" && m.attrs.type === "groupchat");
      heldPeers.add(remote);
      const joined = join(stranger, room, "Stranger");
      await until(() => waiting.length > 0, "the peer clearance is being read");
      // While it is read, the directory gives the stranger a clearance of their own: UNCLASSIFIED.
      await store.setUserClearance(`stranger@${remote}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      heldPeers.clear();
      releaseAll();
      const answer = await joined;
      assert.equal(answer.attrs.type, "error", "admitted on the peer clearance");
      assert.equal(
        stranger.received.some((s) => s.toString().includes("VAULT-HISTORY")),
        false,
        "the room's history reached the stranger",
      );
    });
  });
}
