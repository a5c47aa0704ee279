// Session 14 (adversarial review of the give-up): the subscriber's PING gives up while no stanza
// waits at any component — nothing was held, so nothing learnt that notifications were late, and
// the guard's server modules kept delivering on verdicts cached before a lowering. The store now
// says so as a "connection" down on the give-up, and up once a PING answers again (after the late
// notifications: Redis sends them first on that connection). Real redis-server; a proxy holds what
// Redis sends the subscriber (@cordon/harness subscriber-delay.ts).
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { RedisStore, type StoreEvent } from "../src/index.js";
import { XML_CLEARANCE, cachedBehindProxy, eventually, memoryLogger, recorder } from "./helpers.js";

const JID = "bob@example.mil";
const TIMEOUT_MS = 300;
/** This store reaching Redis through the proxy: its cache kept a minute, commands timing out fast. */
const behindOptions = (url: string, redisUrl: string, prefix: string) => ({
  url,
  redisUrl,
  prefix,
  cacheTtlMs: 60_000,
  commandTimeoutMs: TIMEOUT_MS,
});
const describeEvent = (e: StoreEvent) => (e.kind === "connection" ? `connection ${e.state}` : e.kind);

describe("RedisStore: notifications behind (a PING give-up with nothing held)", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  test("down on the give-up, once; the late notification, then up, on the next answer; lookups meanwhile read Redis", async () => {
    redis = await startRedis();
    const proxy = await subscriberDelay(redis.port);
    const log = memoryLogger();
    const { store, admin, seen } = await cachedBehindProxy(
      { ...behindOptions(proxy.url, redis.url, "behind1:"), logger: log.logger },
      JID,
    );
    try {
      proxy.hold();
      const held = performance.now();
      await admin.setUserClearance(JID, XML_CLEARANCE); // its notification held by the proxy
      await eventually(
        () => seen.events.some((e) => e.kind === "connection"),
        "a down though nothing asked",
        5_000,
      );
      const toldAfter = performance.now() - held;
      assert.deepEqual(seen.events.map(describeEvent), ["connection down"]);
      // Bounded by one command timeout after the last PING before the hold (sent every 250 ms).
      assert.ok(toldAfter <= TIMEOUT_MS + 250 + 200, `down ${toldAfter.toFixed(0)} ms after the hold`);
      const read = await store.getUserClearance(JID);
      assert.equal(read.status === "known" && read.source, "store", "not the cache: Redis");
      assert.equal(read.status === "known" && read.clearance.encoding, "xml", "the lowered clearance");
      await new Promise((r) => setTimeout(r, 3 * TIMEOUT_MS));
      assert.deepEqual(seen.events.map(describeEvent), ["connection down"], "one down per spell");
      assert.equal(
        log.lines().filter((l) => String(l.msg).includes("notifications behind")).length,
        1,
        "logged once",
      );

      proxy.release();
      await eventually(
        () => seen.events.some((e) => e.kind === "connection" && e.state === "up"),
        "up after the answer",
        5_000,
      );
      assert.deepEqual(seen.events.map(describeEvent), [
        "connection down",
        "user-clearance",
        "connection up",
      ]);
      assert.equal(store.notificationsHeard(), undefined, "current again");
      const again = await store.getUserClearance(JID);
      assert.equal(again.status === "known" && again.clearance.encoding, "xml");
    } finally {
      proxy.release();
      await Promise.allSettled([store.close(), admin.close()]);
      proxy.close();
    }
  });

  // Adversarial review adv14b: behind, the store says its caches may not be trusted ("down"), yet a
  // read that then failed (a command timeout: Redis busy, the path to it congested — what also
  // delays the subscriber) answered the cached clearance, one a held notification would have
  // dropped: a lowered user read at the old clearance for up to cacheTtlMs.
  test("behind, a failed read is unknown, never the cached answer a late notification would drop", async () => {
    redis ??= await startRedis();
    const proxy = await subscriberDelay(redis.port);
    const { store, admin, seen } = await cachedBehindProxy(
      behindOptions(proxy.url, redis.url, "behind3:"),
      JID,
    );
    const raw = new Redis(redis.port, "127.0.0.1");
    try {
      proxy.hold();
      await admin.setUserClearance(JID, XML_CLEARANCE); // lowered; its notification held
      await eventually(() => seen.events.some((e) => e.kind === "connection"), "behind: down", 5_000);
      // Redis stops answering every client for a while: the store's read times out.
      await raw.call("CLIENT", "PAUSE", String(4 * TIMEOUT_MS), "ALL");
      const read = await store.getUserClearance(JID);
      assert.notEqual(
        read.status === "known" && read.clearance.encoding,
        "ber",
        "the old clearance, from the cache, while notifications are known to be late",
      );
      assert.equal(read.status, "unknown");
    } finally {
      proxy.release();
      await raw.call("CLIENT", "UNPAUSE").catch(() => undefined);
      raw.disconnect();
      await Promise.allSettled([store.close(), admin.close()]);
      proxy.close();
    }
  });

  test("a subscriber lost while behind: its own down and up, no second up from the barrier", async () => {
    redis ??= await startRedis();
    const proxy = await subscriberDelay(redis.port);
    const prefix = "behind2:";
    const store = new RedisStore({
      url: proxy.url,
      prefix,
      commandTimeoutMs: TIMEOUT_MS,
      maxReconnectDelayMs: 100,
    });
    try {
      await store.ready();
      const seen = recorder();
      store.subscribe(seen.listener);
      proxy.hold();
      await eventually(() => seen.events.length > 0, "down", 5_000);
      proxy.close(); // both connections cut: ioredis reconnects (to a proxy that is gone)
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(
        seen.events.every((e) => e.kind === "connection" && e.state === "down"),
        `only downs while lost: ${seen.events.map(describeEvent).join(", ")}`,
      );
    } finally {
      await store.close();
      proxy.close();
    }
  });
});
