// Session 14 (review of the PING give-up): the guard's verdict cache lives in the server modules,
// which deliver a cached question without asking the guard — so nothing is ever held at the guard,
// and a give-up of the store's PING (@cordon/store notification-barrier.ts) only released stanzas
// that were waiting there. With the guard's store subscriber "ready" but its messages delayed (a
// proxy holds them), Bob lowered to UNCLASSIFIED — published, acknowledged, unheard — kept getting
// SECRET from Alice on the verdict the module cached before the lowering, for as long as the delay
// lasted (here 4 s, on the old code: every message delivered, none asked about). The store now
// tells a give-up as a "connection" down: the guard moves its epoch (the modules drop what they
// cached) and marks nothing cacheable until the store is caught up; the next message is asked
// about, held until the guard's own PING gives up, and decided with the clearance Redis holds.
//
// What remains: the window before the give-up. A message sent after the lowering and before the
// first PING unanswered for commandTimeoutMs gives up (at most commandTimeoutMs + a PING period,
// maxLagMs / 4, after the delay starts — plus the epoch's IQ to the server) is still served from
// the cache. Measured here with commandTimeoutMs 1000 ms (figures in packages/guard/README.md).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  sendRaw,
  serverKinds,
  startRedis,
  subscriberDelay,
  type RedisInstance,
  type SubscriberDelay,
  type TestClient,
  type XmppServer,
} from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { RedisStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";
import { GUARD_ALL, sleep } from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "giveup-pw";
const TIMEOUT_MS = Number(process.env["GIVEUP_TIMEOUT_MS"] ?? 1000);
const PERIOD_MS = 250; // the PING period: maxLagMs (1000 ms) / 4
const SECRET = demo.labelXml(demo.label("SECRET"));

for (const kind of serverKinds()) {
  describe(`the guard's server caches after a store PING give-up on ${kind}`, () => {
    const domain = `${kind}-ggiveup.test`;
    const prefix = `ggiveup-${kind}:`;
    let redis: RedisInstance;
    let proxy: SubscriberDelay;
    let store: RedisStore;
    let admin: RedisStore;
    let server: XmppServer;
    let guard: GuardService;
    let decisions = 0;
    const open: TestClient[] = [];
    let alice: TestClient;
    let bob: TestClient;
    let n = 0;
    const jid = (u: string) => `${u}@${domain}`;
    const clear = (who: string, levels: readonly string[]) =>
      admin.setUserClearance(jid(who), demo.raw(demo.clearance([...levels])));

    before(async () => {
      redis = await startRedis();
      proxy = await subscriberDelay(redis.port);
      store = new RedisStore({ url: proxy.url, prefix, commandTimeoutMs: TIMEOUT_MS });
      admin = new RedisStore({ url: redis.url, prefix });
      await Promise.all([store.ready(5000), admin.ready(5000)]);
      await clear("alice", GUARD_ALL);
      await clear("bob", GUARD_ALL);
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        users: ["alice", "bob"],
        password: PASSWORD,
        guard: { timeoutSeconds: 5, cacheSeconds: 30 },
      });
      guard = await guarded.startGuard(demo, server, domain, { store, onDecision: () => void decisions++ });
      const sessions = guarded.capsSessions(kind, () => server, open, PASSWORD);
      alice = await sessions("alice", "desk", guarded.CLEARED_SITE, false);
      bob = await sessions("bob", "aware", guarded.CLEARED_SITE, true);
    });

    after(async () => {
      proxy?.release();
      await guarded.stopGuarded(server, guard, open);
      await Promise.allSettled([store?.close(), admin?.close()]);
      proxy?.close();
      await redis?.stop();
    });

    /** Alice sends SECRET to Bob: "delivered" (and whether the guard was asked) or "refused". */
    async function send(body: string) {
      const id = `g${++n}`;
      const before = decisions;
      await sendRaw(
        alice,
        `<message to='${jid("bob")}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`,
      );
      for (const end = Date.now() + 8000; Date.now() < end; await sleep(20)) {
        if (bob.received.some((m) => m.attrs.id === id))
          return { outcome: "delivered" as const, asked: decisions - before };
        if (alice.received.some((m) => m.attrs.id === id && m.attrs.type === "error"))
          return { outcome: "refused" as const, asked: decisions - before };
      }
      throw new Error(`message ${id} neither delivered nor refused`);
    }

    test(`[${kind}] Bob lowered while the guard's notifications are delayed: the cached SECRET verdict stops being served after the give-up`, async () => {
      assert.deepEqual(await send("warm-up"), { outcome: "delivered", asked: 1 });
      assert.deepEqual(await send("cached"), { outcome: "delivered", asked: 0 }, "served from the cache");
      await sleep(PERIOD_MS * 2); // a PING answered after the last message: the delay starts now

      proxy.hold();
      const held = performance.now();
      await clear("bob", ["UNCLASSIFIED"]); // published and acknowledged; the guard does not hear it
      const lowered = performance.now() - held;
      const stale: number[] = [];
      let refusedAt: number | undefined;
      let refusedSentAt: number | undefined;
      while (performance.now() - held < 4000) {
        const sentAt = performance.now() - held;
        const r = await send(`during ${sentAt.toFixed(0)}`);
        if (r.outcome === "refused") {
          refusedSentAt = sentAt;
          refusedAt = performance.now() - held;
          break;
        }
        stale.push(sentAt);
        await sleep(100);
      }
      const figures =
        `[${kind}] commandTimeoutMs ${TIMEOUT_MS}: lowered at ${lowered.toFixed(0)} ms; ` +
        `stale deliveries sent at [${stale.map((t) => t.toFixed(0)).join(", ")}] ms; ` +
        `first refusal sent at ${refusedSentAt?.toFixed(0)} ms, its error at ${refusedAt?.toFixed(0)} ms after the delay began`;
      console.log(figures);
      assert.ok(refusedSentAt !== undefined, `never refused while the notification was delayed: ${figures}`);
      // The stale verdict is served at most until the give-up (+ the epoch's IQ, one poll step).
      const lastStale = stale.at(-1) ?? 0;
      assert.ok(lastStale <= TIMEOUT_MS + PERIOD_MS + 300, `a stale delivery after the give-up: ${figures}`);
      // And from then on, still delayed: every SECRET to Bob is asked about and refused.
      for (let i = 0; i < 3; i++) assert.equal((await send(`after ${i}`)).outcome, "refused");

      // Caught up (the notification, then "up"): refused as before, and caching works again.
      proxy.release();
      await sleep(PERIOD_MS * 2);
      assert.equal((await send("released")).outcome, "refused");
      await clear("bob", GUARD_ALL);
      await sleep(300);
      await guard.cacheEpochTold();
      assert.deepEqual(await send("raised"), { outcome: "delivered", asked: 1 });
      assert.deepEqual(await send("raised again"), { outcome: "delivered", asked: 0 }, "cacheable again");
    });
  });
}
