// The notification barrier against a real redis-server (notification-barrier.ts): a process that
// was paused while a clearance was lowered must not answer from its cache before it has heard the
// change. The pause is real: spawnSync blocks this process's event loop while another process
// lowers the clearance, so the notification waits unread in our subscriber socket, as after
// SIGSTOP (adversarial review adv44's e2e test: SECRET reached a lowered user in 1 run of 4).
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startRedis, type RedisInstance } from "@cordon/harness";
import { RedisStore, type ClearanceLookup } from "../src/index.js";
import { BER_ALL_OKAY, XML_CLEARANCE, eventually, recorder } from "./helpers.js";

const INDEX = new URL("../src/index.js", import.meta.url).href;
const JID = "bob@example.mil";

/** Lowers bob's clearance from another process while this one's event loop is blocked. */
function lowerWhilePaused(url: string, prefix: string): void {
  const script = `
    const { RedisStore } = await import(${JSON.stringify(INDEX)});
    const s = new RedisStore({ url: ${JSON.stringify(url)}, prefix: ${JSON.stringify(prefix)} });
    await s.ready(5000);
    await s.setUserClearance(${JSON.stringify(JID)}, ${JSON.stringify(XML_CLEARANCE)});
    await s.close();`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(run.status, 0, run.stderr);
}

const encodingOf = (l: ClearanceLookup) => (l.status === "known" ? l.clearance.encoding : l.status);

describe("RedisStore notification barrier (a paused process)", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  test("a lookup right after a pause reads Redis, not the cache the unheard change made stale; the hold settles after the change is heard", async () => {
    redis = await startRedis();
    const prefix = "nb1:";
    const store = new RedisStore({ url: redis.url, prefix, cacheTtlMs: 60_000, notificationLagMs: 100 });
    try {
      await store.ready();
      const seen = recorder();
      store.subscribe(seen.listener);
      await store.setUserClearance(JID, BER_ALL_OKAY);
      // Told at once by the write, then again as Redis's notification: the second drops the cache
      // (clearance writes are a script now, write-deadline.ts, and return before it: adv15r).
      await eventually(() => seen.events.length >= 2, "the write's notification back from Redis");
      await eventually(() => store.notificationsHeard() === undefined, "the barrier is current");
      assert.equal(encodingOf(await store.getUserClearance(JID)), "ber");
      const cached = await store.getUserClearance(JID);
      assert.equal(
        cached.status === "known" && cached.source,
        "cache",
        "answered from the cache before the pause",
      );
      seen.events.length = 0;

      lowerWhilePaused(redis.url, prefix); // this process's loop is blocked meanwhile
      // Asked in the same turn the pause ends: the change is still unread in the socket.
      const hold = store.notificationsHeard();
      const lookup = store.getUserClearance(JID);
      assert.ok(hold, "stanzas are held: nothing heard since before the pause");
      assert.equal(
        encodingOf(await lookup),
        "xml",
        "the lowered clearance, read from Redis (was: the cached one)",
      );
      await hold;
      assert.ok(
        seen.events.some((e) => e.kind === "user-clearance" && e.jid === JID),
        "the change was heard before the hold settled",
      );
    } finally {
      await store.close();
    }
  });

  test("in steady state nothing is held and the cache answers", async () => {
    redis ??= await startRedis();
    // (Stall detection off here: on a loaded machine this process may not run for 50 ms, and then
    // a PING is rightly waited for — stall-watch.test.ts, redis-notification-stall.test.ts.)
    const store = new RedisStore({
      url: redis.url,
      prefix: "nb2:",
      cacheTtlMs: 60_000,
      notificationStallMs: 60_000,
    });
    try {
      await store.ready();
      const seen = recorder();
      store.subscribe(seen.listener);
      await store.setUserClearance(JID, BER_ALL_OKAY);
      await eventually(() => seen.events.length >= 2, "the write's notification back from Redis");
      await eventually(() => store.notificationsHeard() === undefined, "the barrier is current");
      await store.getUserClearance(JID);
      for (let i = 0; i < 5; i++) {
        assert.equal(store.notificationsHeard(), undefined);
        const l = await store.getUserClearance(JID);
        assert.equal(l.status === "known" && l.source, "cache");
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      await store.close();
    }
  });

  test(
    "Redis not answering: the hold gives up by itself (never hangs) and vouches for nothing",
    { timeout: 30_000 },
    async () => {
      const own = await startRedis();
      const store = new RedisStore({
        url: own.url,
        prefix: "nb3:",
        cacheTtlMs: 60_000,
        notificationLagMs: 100,
        commandTimeoutMs: 500,
      });
      try {
        await store.ready();
        await store.setUserClearance(JID, BER_ALL_OKAY);
        await eventually(() => store.notificationsHeard() === undefined, "the barrier is current");
        await store.getUserClearance(JID);
        own.pause();
        try {
          await new Promise((r) => setTimeout(r, 300));
          const hold = store.notificationsHeard();
          assert.ok(hold, "not current: Redis answers no PING");
          await hold; // settles by itself (the command timeout), or the test times out
          // Still not current: a hold that gave up vouches for nothing (the store's outage rules apply).
          assert.ok(store.notificationsHeard(), "still nothing heard");
        } finally {
          own.resume();
        }
      } finally {
        await store.close();
        await own.stop();
      }
    },
  );
  test(
    "subscriber lost: nothing is held (the store said down; lookups fail closed), held again from the first PING after it is back",
    { timeout: 30_000 },
    async () => {
      const own = await startRedis({ persistent: true });
      const store = new RedisStore({
        url: own.url,
        prefix: "nb4:",
        cacheTtlMs: 60_000,
        notificationLagMs: 100,
        commandTimeoutMs: 500,
        maxReconnectDelayMs: 200,
      });
      try {
        await store.ready();
        const seen = recorder();
        store.subscribe(seen.listener);
        await store.setUserClearance(JID, BER_ALL_OKAY);
        await eventually(() => store.notificationsHeard() === undefined, "the barrier is current");
        await own.kill();
        await eventually(
          () => seen.events.some((e) => e.kind === "connection" && e.state === "down"),
          "the store said down",
        );
        await new Promise((r) => setTimeout(r, 300)); // older than notificationLagMs
        // Was: a promise settling only after commandTimeoutMs, again and again while Redis was away.
        assert.equal(store.notificationsHeard(), undefined, "no hold while the subscriber is known lost");
        assert.notEqual((await store.getUserClearance(JID)).status, "known", "fail closed meanwhile");
        await own.restart();
        await eventually(
          () => seen.events.some((e) => e.kind === "connection" && e.state === "up"),
          "the store is back",
          20_000,
        );
        await eventually(() => store.notificationsHeard() === undefined, "current again after its PING");
        assert.equal(encodingOf(await store.getUserClearance(JID)), "ber");
      } finally {
        await store.close();
        await own.stop();
      }
    },
  );
});
