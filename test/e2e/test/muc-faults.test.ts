// Fail closed, on real Prosody and real ejabberd with a real Redis: when the store cannot answer,
// a join is refused with `wait`, a message from an occupant whose clearance cannot be confirmed is
// refused, nothing labelled reaches anyone — and everything recovers when Redis is back, without a
// restart. Also: a client that goes offline leaves the room (the server's unavailable presence).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, serverKinds, xml, type XmppServer, type TestClient } from "@cordon/harness";
import { RedisStore } from "@cordon/store";
import { createLogger } from "@cordon/component";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const USERS = ["alice", "bob", "carol"];
const until = single.pollUntil;

for (const kind of serverKinds()) {
  describe(`MUC fail-closed on ${kind} with a real Redis`, () => {
    const domain = `${kind}-faults.test`;
    const mucDomain = `rooms.${domain}`;
    const room = `ops@${mucDomain}`;
    let server: XmppServer;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let store: RedisStore;
    let muc: MucService;
    const c: Record<string, TestClient> = {};

    before(async () => {
      redis = await startRedis({ persistent: true }); // a restart keeps the data, as in production
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "faults", users: USERS });
      store = new RedisStore({ url: redis.url, prefix: `faults-${kind}`, cacheTtlMs: 300 });
      await store.ready(5000);
      await single.setClearances(store, demo, domain, USERS, () => ALL_CLASSES);
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "faults",
        store,
        ...(process.env.CORDON_TEST_LOG
          ? { logger: createLogger({ level: process.env.CORDON_TEST_LOG }) }
          : {}),
        settings: single.openRoomSettings(demo),
      });
      await single.connectUsers(server, USERS, c);
      await single.openRoom(room, [
        [c.alice!, "Alice"],
        [c.bob!, "Bob"],
      ]);
    });

    after(async () => {
      await single.stopMucTest(Object.values(c), muc, store, server);
      await redis?.stop();
    });

    test(`[${kind}] with Redis down, joins and messages are refused (wait) and nothing labelled is delivered; all recovers when it is back`, async () => {
      await redis.kill();
      // The store's lookup cache (300 ms here) expires, then every answer is "unknown" (fail closed).
      await new Promise((r) => setTimeout(r, 400));
      const refusedJoin = await join(c.carol!, room, "Carol");
      assert.equal(refusedJoin.attrs.type, "error");
      assert.equal(refusedJoin.getChild("error")!.attrs.type, "wait");
      // The store reports its connection lost; the MUC re-reads occupants' clearances each second
      // until it is back, so they turn "unknown" without waiting for the periodic refresh.
      await until(
        () => muc.rooms.get(room)!.occupants.get("Alice")!.clearance.status === "unknown",
        "occupant clearances turn unknown",
      );
      await c.alice!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "down-1" },
          xml("body", {}, "while the store is down"),
        ),
      );
      const refused = await c.alice!.waitFor((m) => m.attrs.id === "down-1");
      assert.equal(refused.attrs.type, "error");
      assert.equal(refused.getChild("error")!.attrs.type, "wait");
      assert.ok(!refused.toString().includes("while the store is down"));
      await redis.restart();
      await store.ready(10_000);
      // Back: the store reports it, the MUC re-reads at once, and occupants are known again.
      await until(
        () => muc.rooms.get(room)!.occupants.get("Alice")!.clearance.status === "known",
        "occupant clearances known again",
      );
      await c.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "up-1" }, xml("body", {}, "store is back")),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "up-1" && m.attrs.type === "groupchat");
      assert.ok(!c.bob!.received.some((m) => m.attrs.id === "down-1"));
      assert.notEqual((await join(c.carol!, room, "Carol")).attrs.type, "error");
    });

    test(`[${kind}] a client that goes offline leaves the room (the server sends its unavailable presence)`, async () => {
      await c.carol!.stop();
      const gone = await c.alice!.waitFor(
        (p) => p.is("presence") && p.attrs.from === `${room}/Carol` && p.attrs.type === "unavailable",
        8000,
      );
      assert.ok(gone);
      assert.ok(!muc.rooms.get(room)!.occupants.has("Carol"));
    });
  });
}
