// The MUC under one hostile account (issue 14), on real Prosody and real ejabberd: refusals to an
// account without clearance are throttled (no amplification); a cleared account cannot make the
// component hold more than its budget — history bounded in bytes per room and in total (whatever
// historyLength the owner sets), presence payloads bounded per occupant, rooms created and rooms
// entered bounded per user — while a legitimate occupant keeps receiving and the link stays up.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, xml, type XmppServer, type TestClient } from "@cordon/harness";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import type { BufferUse } from "@cordon/component";
import { ALL_CATEGORIES, ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import { configureRoom, errorCondition, joinRoom as join } from "../src/muc-client.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const BURST = 20;
const ROOM_BYTES = 64 * 1024;
const TOTAL_BYTES = 256 * 1024;
const CREATED = 3;
const JOINED = 4;
const USERS = ["alice", "bob", "mallory", "trudy"];

for (const kind of serverKinds()) {
  describe(`MUC memory budget on ${kind}`, () => {
    const domain = `${kind}-budget.test`;
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let muc: MucService;
    const store = new MemoryStore();
    const c: Record<string, TestClient> = {};
    let joinDenials = 0;

    before(async () => {
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "budget", users: USERS });
      for (const u of ["alice", "bob", "trudy"])
        await store.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(ALL_CLASSES, ALL_CATEGORIES)));
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "budget",
        store,
        observer: {
          decision: (k, granted) => {
            if (k === "join" && !granted) joinDenials++;
          },
          fanout: () => undefined,
        },
        settings: {
          limits: {
            throttle: { burst: BURST, perMinute: 0 },
            history: { roomBytes: ROOM_BYTES, totalBytes: TOTAL_BYTES },
            occupants: { occupantBytes: 16 * 1024, roomsPerUser: JOINED },
            roomsCreatedPerUser: CREATED,
          },
        },
      });
      await single.connectUsers(server, USERS, c);
      // The legitimate room: alice owns it, bob is in it.
      await single.openRoom(`lobby@${mucDomain}`, [
        [c.alice!, "Alice"],
        [c.bob!, "Bob"],
      ]);
    });

    after(() => single.stopMucTest(Object.values(c), muc, store, server));

    const use = (buffer: string): BufferUse => {
      const found = muc.memory().find((b) => b.buffer === buffer);
      assert.ok(found, buffer);
      return found;
    };

    /** Alice's message to the lobby still reaches bob. */
    async function lobbyStillWorks(id: string): Promise<void> {
      await c.alice!.send(
        xml("message", { type: "groupchat", to: `lobby@${mucDomain}`, id }, xml("body", {}, "still here")),
      );
      await c.bob!.waitFor((m) => m.is("message") && m.attrs.id === id && m.attrs.type === "groupchat", 8000);
      assert.equal(muc.rooms.size > 0, true);
    }

    test(`[${kind}] refusals to an account without clearance are throttled: ${BURST} errors, one resource-constraint, then nothing`, async () => {
      const mallory = c.mallory!;
      const N = 40; // fewer than one sender may have pending: each is decided
      const before = joinDenials;
      for (let i = 0; i < N; i++)
        void mallory.send(
          xml(
            "presence",
            { to: `lobby@${mucDomain}/m${i}` },
            xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
          ),
        );
      // Every join decided (each refusal is queued on the link in the same turn as its decision).
      while (joinDenials - before < N) await new Promise((r) => setTimeout(r, 20));
      // An answer queued after all of them arrives after all of them.
      await mallory.iq(
        xml(
          "iq",
          { type: "get", to: mucDomain },
          xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
        ),
      );
      const errors = mallory.received.filter((p) => p.is("presence") && p.attrs.type === "error");
      assert.equal(errors.length, BURST + 1, `${errors.length} errors for ${N} refused joins`);
      assert.ok(errors.slice(0, BURST).every((e) => errorCondition(e) === "forbidden"));
      assert.equal(errorCondition(errors[BURST]!), "resource-constraint");
      await lobbyStillWorks(`after-throttle-${kind}`);
    });

    test(`[${kind}] history is bounded in bytes per room and in total, whatever historyLength the owner sets`, async () => {
      const trudy = c.trudy!;
      const rooms = [`h1@${mucDomain}`, `h2@${mucDomain}`];
      for (const room of rooms) {
        await join(trudy, room, "T");
        await configureRoom(trudy, room, { "muc#maxhistoryfetch": "10000" });
      }
      const body = "h".repeat(8 * 1024);
      for (let i = 0; i < 40; i++) {
        const room = rooms[i % 2]!;
        await trudy.send(xml("message", { type: "groupchat", to: room, id: `h${i}` }, xml("body", {}, body)));
      }
      // Trudy's own copy of the last message: everything before it is stored.
      await trudy.waitFor((m) => m.is("message") && m.attrs.id === "h39", 8000);
      for (const room of rooms) {
        const r = muc.rooms.get(room);
        assert.ok(r);
        assert.ok(r.history.length > 0 && r.history.length < 20, `${r.history.length} kept`);
        assert.ok(r.historyBytes <= ROOM_BYTES, `${r.historyBytes} bytes`);
      }
      const history = use("history");
      assert.equal(history.maxBytes, TOTAL_BYTES);
      assert.ok(history.bytes <= TOTAL_BYTES, `${history.bytes} bytes`);
      // A joiner is replayed what was kept, newest last.
      await join(c.bob!, rooms[1]!, "Bob");
      const replayed = c.bob!.received.filter((m) => m.is("message") && m.attrs.from === `${rooms[1]}/T`);
      assert.equal(replayed.at(-1)?.attrs.id, "h39");
      await lobbyStillWorks(`after-history-${kind}`);
    });

    test(`[${kind}] a presence payload larger than an occupant may keep is refused, echoing nothing`, async () => {
      const big = Array.from({ length: 40 }, (_, i) =>
        xml("x", { xmlns: `urn:example:pad:${i}` }, "p".repeat(400)),
      );
      await c.trudy!.send(
        xml(
          "presence",
          { to: `lobby@${mucDomain}/Big` },
          xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
          ...big,
        ),
      );
      const refused = await c.trudy!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `lobby@${mucDomain}/Big`,
        8000,
      );
      assert.equal(refused.attrs.type, "error");
      assert.equal(errorCondition(refused), "policy-violation");
      assert.ok(!refused.toString().includes("ppppp"), "nothing of the payload echoed");
      assert.ok(![...(muc.rooms.get(`lobby@${mucDomain}`)?.occupants.keys() ?? [])].includes("Big"));
      assert.ok(use("presence").bytes <= use("presence").maxBytes);
      await lobbyStillWorks(`after-presence-${kind}`);
    });

    test(`[${kind}] rooms a user may create and be in at once are bounded (not-allowed)`, async () => {
      const trudy = c.trudy!;
      // Trudy created h1 and h2; one more is allowed, then not-allowed.
      const third = await join(trudy, `q1@${mucDomain}`, "T");
      assert.notEqual(third.attrs.type, "error");
      const fourth = await join(trudy, `q2@${mucDomain}`, "T");
      assert.equal(fourth.attrs.type, "error");
      assert.equal(errorCondition(fourth), "not-allowed");
      assert.equal(muc.rooms.has(`q2@${mucDomain}`), false);
      // In h1, h2 and q1: one more room (the lobby), then not-allowed.
      const lobby = await join(trudy, `lobby@${mucDomain}`, "Trudy");
      assert.notEqual(lobby.attrs.type, "error");
      await join(c.alice!, `extra@${mucDomain}`, "Alice");
      await configureRoom(c.alice!, `extra@${mucDomain}`);
      const fifth = await join(trudy, `extra@${mucDomain}`, "Trudy");
      assert.equal(errorCondition(fifth), "not-allowed");
      await lobbyStillWorks(`after-quota-${kind}`);
    });
  });
}
