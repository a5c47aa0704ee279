// Issue 17 (review adv16b): the guard's client-location rule in labelled rooms, on real Prosody and
// real ejabberd with real clients. The guard module is loaded and Cordon's MUC is among its trusted
// components; clients connect from 127.0.0.1 (a site cleared for everything) or 127.0.0.2 (one
// cleared for UNCLASSIFIED only). The MUC learns each joining occupant's address from the
// occupant's server (`<session xmlns='urn:cordon:guard:0' jid/>`, packages/muc/src/security/
// occupant-location.ts). Before this change the MUC knew no session's address: the annex session
// got and could send whatever alice's clearance grants (M1–M3 fail on the old MUC; M4's join was
// admitted).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, xml, type XmppServer, type TestClient } from "@cordon/harness";
import { createComponent, IqError, NS_GUARD, type CordonComponent, type Element } from "@cordon/component";
import type { GuardService } from "@cordon/guard";
import { DEFAULT_ROOM_CONFIG, type MucService } from "@cordon/muc";
import { MemoryStore } from "@cordon/store";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { errorCondition, joinRoom, configureRoom } from "../src/muc-client.js";

const demo = loadDemo();
const PASSWORD = "mucloc-pw";
const NS_DELAY = "urn:xmpp:delay";

for (const kind of serverKinds()) {
  describe(`labelled rooms and the guard's client locations on ${kind} (issue 17)`, () => {
    const domain = `${kind}-mucloc.test`;
    const rooms = `rooms.${domain}`;
    const untrustedRooms = `other-rooms.${domain}`;
    const plainRooms = `plain-rooms.${domain}`;
    const cliRooms = `cli-rooms.${domain}`;
    const room = `ops@${rooms}`;
    const store = new MemoryStore();
    let server: XmppServer;
    let guard: GuardService;
    let muc: MucService;
    let untrustedMuc: MucService;
    let plainMuc: MucService;
    let mucLink: CordonComponent;
    let untrustedLink: CordonComponent;
    const open: TestClient[] = [];

    /** The demo MUC on `component` (rooms UNCLASSIFIED, cleared for every class; history kept), located or not. */
    const startMuc = (component: CordonComponent, mucDomain: string, located = true) =>
      startDemoMuc(demo, {
        server,
        component,
        mucDomain,
        localDomain: domain,
        secret: "unused",
        store,
        ...(located ? { locations: { locations: guarded.twoSites(demo) } } : {}),
        settings: { roomDefaults: { ...DEFAULT_ROOM_CONFIG, historyLength: 20 } },
      });
    const link = (mucDomain: string, secret: string) =>
      createComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: mucDomain,
        secret,
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
    const session = (user: string, resource: string, site: string) =>
      guarded.openSession(server, open, PASSWORD, user, resource, site);
    /** Sends a labelled groupchat message as raw XML (the label element verbatim). */
    const say = (client: TestClient, id: string, label: string) =>
      sendRaw(
        client,
        `<message to='${room}' type='groupchat' id='${id}'><body>text of ${id}</body>${demo.labelXml(demo.label(label))}</message>`,
      );
    const groupchat = (client: TestClient, id: string) =>
      client.received.filter((m) => m.is("message") && m.attrs.id === id && m.attrs.type === "groupchat");
    const waitGroupchat = (client: TestClient, id: string) =>
      client.waitFor((m) => m.is("message") && m.attrs.id === id && m.attrs.type === "groupchat", 8000);

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob"],
          password: PASSWORD,
          // The MUCs are among the module's trusted components (deploy/README.md: else the module
          // has the guard judge what they deliver); the other MUC is not.
          guard: { timeoutSeconds: 2, trusted: [rooms, plainRooms, cliRooms] },
        },
        {
          components: [
            { domain: rooms, secret: "rooms" },
            { domain: untrustedRooms, secret: "other" },
            { domain: plainRooms, secret: "plain" },
            { domain: cliRooms, secret: "cli-rooms" },
          ],
        },
      );
      guard = await guarded.startGuard(demo, server, domain, { store, locations: guarded.twoSites(demo) });
      mucLink = link(rooms, "rooms");
      muc = await startMuc(mucLink, rooms);
      untrustedLink = link(untrustedRooms, "other");
      untrustedMuc = await startMuc(untrustedLink, untrustedRooms);
      // The same MUC without locations: what a join costs without the question (M5's figures).
      plainMuc = await startMuc(link(plainRooms, "plain"), plainRooms, false);
    });

    after(async () => {
      await plainMuc?.stop();
      await untrustedMuc?.stop();
      await muc?.stop();
      await guarded.stopGuarded(server, guard, open);
    });

    test(`[${kind}] M1: the session at the UNCLASSIFIED-only site does not get a SECRET room message; the same user's session at the cleared site, and bob, do`, async () => {
      const bob = await session("bob", "desk", CLEARED_SITE);
      const hq = await session("alice", "hq", CLEARED_SITE);
      const annex = await session("alice", "annex", UNCLASSIFIED_SITE);
      await joinRoom(bob, room, "bob");
      await configureRoom(bob, room);
      for (const [client, nick] of [
        [hq, "alice"],
        [annex, "alice-annex"],
      ] as const) {
        const self = await joinRoom(client, room, nick);
        assert.notEqual(self.attrs.type, "error", `${nick} joins the UNCLASSIFIED room`);
      }
      await say(bob, "m1-secret", "SECRET");
      await say(bob, "m1-unclass", "UNCLASSIFIED");
      // The room sends in order: once the UNCLASSIFIED message is in, the SECRET one would be too.
      await waitGroupchat(annex, "m1-unclass");
      await waitGroupchat(hq, "m1-unclass");
      await waitGroupchat(bob, "m1-unclass");
      assert.equal(groupchat(annex, "m1-secret").length, 0, "the annex session got the SECRET message");
      assert.equal(groupchat(hq, "m1-secret").length, 1, "the cleared session of the same user");
      assert.equal(groupchat(bob, "m1-secret").length, 1, "bob (the sender's echo)");
    });

    test(`[${kind}] M2: SECRET sent from the annex session is refused forbidden; nothing echoed, nobody gets it`, async () => {
      const bob = await session("bob", "desk2", CLEARED_SITE);
      const annex = await session("alice", "annex2", UNCLASSIFIED_SITE);
      await joinRoom(bob, room, "bob2");
      await joinRoom(annex, room, "annex2");
      await say(annex, "m2-secret", "SECRET");
      const refused = await annex.waitFor(
        (m) => m.attrs.id === "m2-secret" && m.attrs.type === "error",
        8000,
      );
      assert.equal(errorCondition(refused), "forbidden");
      await say(annex, "m2-unclass", "UNCLASSIFIED");
      await waitGroupchat(bob, "m2-unclass");
      await waitGroupchat(annex, "m2-unclass");
      assert.equal(groupchat(bob, "m2-secret").length, 0, "bob got it");
      assert.equal(groupchat(annex, "m2-secret").length, 0, "echoed to the sender");
    });

    test(`[${kind}] M3: history replayed to a session at the annex leaves SECRET out; at the cleared site it is there`, async () => {
      const annex = await session("alice", "annex3", UNCLASSIFIED_SITE);
      const hq = await session("alice", "hq3", CLEARED_SITE);
      await joinRoom(annex, room, "annex3");
      await joinRoom(hq, room, "hq3");
      const replayed = (client: TestClient) =>
        client.received
          .filter((m) => m.is("message") && m.getChild("delay", NS_DELAY) && m.attrs.from?.startsWith(room))
          .map((m) => m.attrs.id);
      assert.ok(replayed(annex).includes("m1-unclass"), "UNCLASSIFIED history");
      assert.ok(!replayed(annex).includes("m1-secret"), "the annex session got SECRET history");
      assert.ok(replayed(hq).includes("m1-secret"), "the cleared session gets SECRET history");
    });

    test(`[${kind}] M4: a MUC the module does not answer knows no address: the join is refused forbidden (fail closed), nothing of the room sent`, async () => {
      const hq = await session("alice", "hq4", CLEARED_SITE);
      const self = await joinRoom(hq, `ops@${untrustedRooms}`, "alice");
      assert.equal(self.attrs.type, "error");
      assert.equal(errorCondition(self), "forbidden");
      // (The MUC's disco#info question to the joining client comes from the room too: not content.)
      assert.equal(
        hq.received.some(
          (s: Element) =>
            (s.is("message") || s.is("presence")) &&
            s.attrs.from?.startsWith(`ops@${untrustedRooms}`) === true &&
            s.attrs.type !== "error",
        ),
        false,
        "room content sent to a session whose location is not known",
      );
    });

    test(`[${kind}] M5: only the trusted MUC's own domain is told an address`, async (t) => {
      const annex = await session("alice", "annex5", UNCLASSIFIED_SITE);
      const ask = (c: CordonComponent, from?: string) =>
        c.request(
          xml(
            "iq",
            { type: "get", to: domain, ...(from ? { from } : {}) },
            xml("session", { xmlns: NS_GUARD, jid: annex.jid }),
          ),
          5000,
        );
      const told = await ask(mucLink);
      assert.match(String(told.getChild("session", NS_GUARD)?.attrs.ip), /^(::ffff:)?127\.0\.0\.2$/);
      // What a join pays for it: one such round trip (asked beside the join's disco#info).
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const start = process.hrtime.bigint();
        await ask(mucLink);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      times.sort((a, b) => a - b);
      t.diagnostic(
        `the MUC's session question round trip: median ${times[50]?.toFixed(2)} ms, p90 ${times[90]?.toFixed(2)} ms`,
      );
      // A whole join (presence sent → subject received, XEP-0045 §7.2.16) at the located MUC and
      // at the same MUC without locations, in turns: the question goes beside the join's
      // disco#info, so it adds what it takes beyond that (figures only, never asserted).
      const hq = await session("alice", "hq5", CLEARED_SITE);
      const joins: Record<string, number[]> = { located: [], plain: [] };
      for (let i = 0; i < 40; i++)
        for (const [name, service] of [
          ["located", rooms],
          ["plain", plainRooms],
        ] as const) {
          const at = `join${i}@${service}`;
          const start = process.hrtime.bigint();
          const self = await joinRoom(hq, at, "alice");
          joins[name]!.push(Number(process.hrtime.bigint() - start) / 1e6);
          assert.notEqual(self.attrs.type, "error", name);
          await hq.send(xml("presence", { to: `${at}/alice`, type: "unavailable" }));
        }
      for (const [name, ms] of Object.entries(joins)) {
        ms.sort((a, b) => a - b);
        t.diagnostic(
          `join at the ${name} MUC: median ${ms[20]?.toFixed(2)} ms, p90 ${ms[36]?.toFixed(2)} ms`,
        );
      }
      // A room's JID or an occupant's (the MUC sends under them on users' behalf) is not told.
      for (const from of [room, `${room}/alice`]) {
        await assert.rejects(ask(mucLink, from), (e: unknown) => {
          assert.ok(e instanceof IqError, `${from}: ${String(e)}`);
          assert.equal(e.condition, "forbidden", from);
          return true;
        });
      }
      await assert.rejects(ask(untrustedLink), (e: unknown) => {
        assert.ok(e instanceof IqError);
        assert.equal(e.condition, "forbidden");
        return true;
      });
    });

    test(`[${kind}] M6: cordon start reads the guard's locations from the same file for the MUC (--only muc)`, async () => {
      const cliRoom = `cli@${cliRooms}`;
      await guarded.withCordonStart(
        { demo, server, domain, users: ["alice", "bob"] },
        {
          name: "muc",
          domain: cliRooms,
          secret: "cli-rooms",
          lines: [
            `    localDomains: [${domain}]`,
            "    labels: { UNCLASSIFIED: { classification: UNCLASSIFIED }, SECRET: { classification: SECRET } }",
            "    roomLabel: UNCLASSIFIED",
          ],
        },
        async () => {
          const hq = await session("alice", "hq6", CLEARED_SITE);
          const annex = await session("alice", "annex6", UNCLASSIFIED_SITE);
          await joinRoom(hq, cliRoom, "alice");
          await configureRoom(hq, cliRoom);
          assert.notEqual((await joinRoom(annex, cliRoom, "annex")).attrs.type, "error");
          const send = (client: TestClient, id: string, label: string) =>
            sendRaw(
              client,
              `<message to='${cliRoom}' type='groupchat' id='${id}'><body>${id}</body>${demo.labelXml(demo.label(label))}</message>`,
            );
          await send(annex, "m6-secret", "SECRET");
          const refused = await annex.waitFor(
            (m) => m.attrs.id === "m6-secret" && m.attrs.type === "error",
            8000,
          );
          assert.equal(errorCondition(refused), "forbidden");
          await send(hq, "m6-hq-secret", "SECRET");
          await send(hq, "m6-hq-unclass", "UNCLASSIFIED");
          await waitGroupchat(annex, "m6-hq-unclass");
          await waitGroupchat(hq, "m6-hq-secret");
          assert.equal(groupchat(annex, "m6-hq-secret").length, 0, "the annex session got SECRET");
          assert.equal(groupchat(hq, "m6-secret").length, 0);
        },
      );
    });
  });
}
