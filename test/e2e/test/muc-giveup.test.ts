// Adversarial review adv13s, on real Prosody and real ejabberd with a real Redis: the MUC's store
// subscriber stays "ready" but its messages are delayed (a proxy holds them). Bob is lowered to
// UNCLASSIFIED — published, acknowledged — and then Alice sends SECRET to the room. The incoming
// hold waits for a PING, which gives up (commandTimeoutMs); the held message then went on and was
// decided with Bob's occupant clearance as it was before the lowering: SECRET reached him. Now the
// give-up leaves every occupant's clearance unknown until re-read (clearance-watch.ts `behind`).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startRedis,
  subscriberDelay,
  serverKinds,
  xml,
  type XmppServer,
  type TestClient,
  type SubscriberDelay,
} from "@cordon/harness";
import { RedisStore } from "@cordon/store";
import { parseElement } from "@cordon/component";
import type { MucService } from "@cordon/muc";
import { ALL_CLASSES, loadDemo, startDemoMuc } from "../src/demo.js";
import * as single from "../src/muc-service-fixture.js";

const demo = loadDemo();
const S = demo.label("SECRET");
const USERS = ["alice", "bob"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of serverKinds()) {
  describe(`MUC: a PING give-up on ${kind}`, () => {
    const domain = `${kind}-giveup.test`;
    const mucDomain = `rooms.${domain}`;
    const room = `ops@${mucDomain}`;
    let server: XmppServer;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let proxy: SubscriberDelay;
    let store: RedisStore;
    let admin: RedisStore;
    let muc: MucService;
    const c: Record<string, TestClient> = {};

    before(async () => {
      redis = await startRedis();
      proxy = await subscriberDelay(redis.port);
      server = await single.startMucServer(kind, { domain, mucDomain, secret: "giveup", users: USERS });
      store = new RedisStore({
        url: proxy.url,
        prefix: `giveup-${kind}`,
        cacheTtlMs: 60_000,
        commandTimeoutMs: 400,
      });
      admin = new RedisStore({ url: redis.url, prefix: `giveup-${kind}` });
      await Promise.all([store.ready(5000), admin.ready(5000)]);
      await single.setClearances(admin, demo, domain, USERS, () => ALL_CLASSES);
      muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "giveup",
        store,
        settings: single.openRoomSettings(demo),
      });
      await single.connectUsers(server, USERS, c);
      await single.openRoom(room, [
        [c.alice!, "Alice"],
        [c.bob!, "Bob"],
      ]);
    });

    after(async () => {
      proxy?.release();
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      await muc?.stop();
      await Promise.allSettled([store?.close(), admin?.close()]);
      proxy?.close();
      await server?.stop();
      await redis?.stop();
    });

    test(`[${kind}] SECRET sent after Bob was lowered does not reach him when the store's PING gave up`, async () => {
      const say = (id: string) =>
        c.alice!.send(
          xml(
            "message",
            { to: room, type: "groupchat", id },
            parseElement(demo.labelXml(S)),
            xml("body", {}, id),
          ),
        );
      await say("s-before");
      await c.bob!.waitFor((m) => m.attrs.id === "s-before" && m.attrs.type === "groupchat");

      proxy.hold();
      await admin.setUserClearance(`bob@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await sleep(1300); // heard-up-to older than maxLagMs: the message is held, the PING gives up
      await say("s-after");
      await c.alice!.waitFor((m) => m.attrs.id === "s-after", 8000);
      await sleep(1500);
      assert.ok(
        !c.bob!.received.some((m) => m.attrs.id === "s-after" && m.attrs.type === "groupchat"),
        "bob, lowered to UNCLASSIFIED before it was sent, got SECRET",
      );
      proxy.release();
    });
  });
}
