import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { InvalidValueError, RedisStore, StoreUnavailableError } from "../src/index.js";
import { behaviourSuite } from "./behaviour-suite.js";
import { BER_ALL_OKAY, eventually, memoryLogger, recorder, XML_CLEARANCE } from "./helpers.js";

let redis: RedisInstance | undefined;
let n = 0;
async function server(): Promise<RedisInstance> {
  redis ??= await startRedis();
  return redis;
}

behaviourSuite({
  name: "redis",
  async create() {
    const r = await server();
    const prefix = `t${++n}:`;
    const make = async () => {
      const s = new RedisStore({ url: r.url, prefix, cacheTtlMs: 1000 });
      await s.ready();
      return s;
    };
    return { store: await make(), peer: make };
  },
  async teardown() {
    await redis?.stop();
    redis = undefined;
  },
});

describe("RedisStore specifics", () => {
  test("configuration errors are typed", () => {
    assert.throws(() => new RedisStore({}), InvalidValueError);
    assert.throws(() => new RedisStore({ sentinels: [{ host: "127.0.0.1", port: 1 }] }), InvalidValueError);
  });

  test("keys follow the documented schema under the prefix", async () => {
    const r = await startRedis();
    const s = new RedisStore({ url: r.url, prefix: "app:" });
    const raw = new Redis(r.url);
    try {
      await s.ready();
      await s.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      await s.setUserClearance("alice@example.mil", XML_CLEARANCE, "1.2.3");
      await s.setServiceClearance("rooms.example.mil", BER_ALL_OKAY);
      await s.setPeerClearance("peer.example", "inbound", BER_ALL_OKAY);
      await s.putRoom({
        jid: "r@rooms.example.mil",
        config: {},
        affiliations: { "a@example.mil": "owner" },
        persistent: true,
      });
      await s.appendRoomHistory("r@rooms.example.mil", "e1");
      await s.setCatalog({ kind: "domain", domain: "example.mil" }, "{}");
      assert.deepEqual((await raw.keys("*")).sort(), [
        "app:catalogs",
        "app:peers",
        "app:room:r@rooms.example.mil",
        "app:room:r@rooms.example.mil:aff",
        "app:room:r@rooms.example.mil:history",
        "app:rooms",
        "app:services",
        "app:user:alice@example.mil",
        "app:users",
      ]);
      assert.deepEqual((await raw.hkeys("app:user:alice@example.mil")).sort(), ["*", "1.2.3"]);
      assert.deepEqual(
        JSON.parse((await raw.hget("app:peers", "inbound:peer.example")) ?? "null"),
        BER_ALL_OKAY,
      );
      // A corrupt record (not written by the store) answers "unknown", never a grant.
      await raw.hset("app:user:mallory@example.mil", "*", "{not json");
      const bad = await s.getUserClearance("mallory@example.mil");
      assert.equal(bad.status, "unknown");
    } finally {
      raw.disconnect();
      await s.close();
      await r.stop();
    }
  });

  test("the pub/sub connection alone lost: subscribers are told down, then up once it is back", async () => {
    // Its own server (the shared one is stopped by the behaviour suite's teardown, and CLIENT KILL
    // must not reach any other test's subscriber).
    const r = await startRedis();
    const s = new RedisStore({ url: r.url, prefix: `ps${++n}:`, cacheTtlMs: 1000 });
    const raw = new Redis(r.url);
    const events: string[] = [];
    const off = s.subscribe((e) => {
      if (e.kind === "connection") events.push(e.state);
    });
    try {
      await s.ready();
      // Only the subscriber's connection: the main one stays up.
      await raw.call("CLIENT", "KILL", "TYPE", "pubsub");
      await eventually(() => events[0] === "down", "the subscriber's loss told", 5000);
      await eventually(() => events.length >= 2, "its return told", 10_000);
      assert.deepEqual(events, ["down", "up"]);
    } finally {
      off();
      raw.disconnect();
      await s.close();
      await r.stop();
    }
  });

  test("up is told only once the subscriber hears notifications again (its SUBSCRIBE accepted)", async () => {
    // Subscribers take "up" to mean that notifications flow again: the MUC re-reads its occupants'
    // clearances once and keeps them, the guard and the store cache answers again. ioredis emits
    // "ready" before it resubscribes (and its resubscription's failure is silent): "up" was told,
    // and the store's cache trusted, on a subscriber that heard nothing — here the SUBSCRIBE is
    // refused (an ACL without the channel) and a lowered clearance went unheard (adv19).
    const r = await startRedis();
    const raw = new Redis(r.url);
    // The store under test as a user of its own (the writer stays the default user).
    await raw.call("ACL", "SETUSER", "watcher", "on", ">watcher-pw", "~*", "&*", "+@all");
    const url = new URL(r.url);
    url.username = "watcher";
    url.password = "watcher-pw";
    const s = new RedisStore({
      url: url.href,
      prefix: `up${++n}:`,
      cacheTtlMs: 60_000,
      maxReconnectDelayMs: 200,
    });
    const other = new RedisStore({ url: r.url, prefix: `up${n}:` });
    const events: string[] = [];
    const off = s.subscribe((e) => {
      if (e.kind === "connection") events.push(e.state);
    });
    try {
      await s.ready();
      await other.ready();
      await other.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      // The channel refused to it (Redis 7 drops its subscriber at once).
      await raw.call("ACL", "SETUSER", "watcher", "resetchannels");
      await raw.call("CLIENT", "KILL", "TYPE", "pubsub").catch(() => undefined);
      await eventually(() => events[0] === "down", "the subscriber's loss told", 5000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(events, ["down"], "no up while the subscriber is not subscribed");
      // Deaf meanwhile: what it answers is read from Redis each time, never kept.
      assert.equal((await s.getUserClearance("alice@example.mil")).status, "known");
      await other.deleteUserClearance("alice@example.mil");
      assert.equal((await s.getUserClearance("alice@example.mil")).status, "none");
      // The channel allowed again: subscribed on the next attempt, then up.
      await raw.call("ACL", "SETUSER", "watcher", "allchannels");
      await eventually(() => events.length >= 2, "its return told", 10_000);
      assert.deepEqual(events, ["down", "up"]);
      const rec = recorder();
      s.subscribe(rec.listener);
      await other.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      await eventually(() => rec.events.some((e) => e.kind === "user-clearance"), "notifications heard");
    } finally {
      off();
      raw.disconnect();
      await s.close();
      await other.close();
      await r.stop();
    }
  });

  test("fault: Redis killed -> cached answers within TTL, then unknown; restarted -> recovers; logged once", async () => {
    const r = await startRedis();
    const log = memoryLogger();
    const ttl = 800;
    const s = new RedisStore({ url: r.url, cacheTtlMs: ttl, logger: log.logger, maxReconnectDelayMs: 200 });
    const other = new RedisStore({ url: r.url, cacheTtlMs: ttl });
    try {
      await s.ready();
      await other.ready();
      await s.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      await eventually(
        async () => (await s.getUserClearance("alice@example.mil")).status === "known",
        "alice known",
      );
      await r.kill();
      // Within the TTL the cached grant may still be served; never after it.
      const killedAt = Date.now();
      const answer = await eventually(async () => {
        const a = await s.getUserClearance("alice@example.mil");
        if (a.status === "known") {
          assert.equal(a.source, "cache");
          assert.ok(Date.now() - killedAt < ttl + 1000, "a cached grant outlived its TTL");
          return undefined;
        }
        return a;
      }, "alice unknown after the TTL");
      assert.equal(answer.status, "unknown");
      // Not cached at all -> unknown at once.
      assert.equal((await s.getUserClearance("nobody@example.mil")).status, "unknown");
      assert.equal((await s.getPeerClearance("peer.example", "inbound")).status, "unknown");
      await assert.rejects(s.setUserClearance("bob@example.mil", BER_ALL_OKAY), StoreUnavailableError);
      await assert.rejects(s.getRoom("r@rooms.example.mil"), StoreUnavailableError);
      for (let i = 0; i < 20; i++) await s.getUserClearance("nobody@example.mil");

      await r.restart();
      // Redis comes back empty (no persistence): recovery means correct "none" answers and working writes.
      await eventually(
        async () => (await s.getUserClearance("alice@example.mil")).status === "none",
        "recovered after restart",
        15_000,
      );
      await s.ready(10_000);
      await other.ready(10_000);
      const rec = recorder();
      other.subscribe(rec.listener);
      await s.setUserClearance("alice@example.mil", XML_CLEARANCE);
      await eventually(
        () => rec.events.some((e) => e.kind === "user-clearance"),
        "notifications flow again after restart",
      );
      const back = await other.getUserClearance("alice@example.mil");
      assert.ok(back.status === "known");
      assert.deepEqual(back.clearance, XML_CLEARANCE);

      const lines = log.lines();
      const lost = lines.filter(
        (l) =>
          typeof l.msg === "string" && /connection lost|unreachable/.test(l.msg) && l.backend === "redis",
      );
      const restored = lines.filter((l) => l.msg === "redis connection restored");
      assert.equal(lost.length, 1, JSON.stringify(lines.map((l) => l.msg)));
      assert.equal(restored.length, 1);
    } finally {
      await s.close();
      await other.close();
      await r.stop();
    }
  });

  test("a read that fails after the cached answer's TTL passed answers unknown, not that answer", async () => {
    // Redis stalled (SIGSTOP): the read waits for the command timeout. The cached answer was within
    // its TTL when the read began but not when it failed: fail closed. (Was: the answer taken before
    // the read was served after it, the timeout past its TTL.)
    const r = await startRedis();
    const ttl = 700;
    const s = new RedisStore({ url: r.url, cacheTtlMs: ttl, commandTimeoutMs: 1000, notificationLagMs: 100 });
    try {
      await s.ready();
      await s.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      assert.equal((await s.getUserClearance("alice@example.mil")).status, "known");
      const cachedAt = Date.now();
      r.pause();
      // Past the notification lag: the cache is no longer the first answer, Redis is asked.
      await new Promise((resolve) => setTimeout(resolve, 250));
      const began = Date.now();
      const a = await s.getUserClearance("alice@example.mil");
      const failedAt = Date.now();
      assert.ok(began - cachedAt < ttl, "the read began within the TTL");
      assert.ok(failedAt - cachedAt >= ttl, "the read failed after the TTL");
      assert.equal(a.status, "unknown", `answered ${a.status} ${failedAt - cachedAt} ms after caching`);
    } finally {
      r.resume();
      await s.close();
      await r.stop();
    }
  });

  test("a clearance write tells this store's own subscribers before it returns, not only through Redis", async () => {
    // CI under load (relay-store-outage): a stanza decided between the write's return and its
    // notification's arrival read the old clearance from a subscriber's cache. The proxy holds what
    // Redis sends the subscriber, so only the store's own telling can reach the listener in time.
    const r = await startRedis();
    const proxy = await subscriberDelay(r.port);
    const s = new RedisStore({ url: proxy.url });
    try {
      await s.ready();
      const rec = recorder();
      s.subscribe(rec.listener);
      proxy.hold();
      await s.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      assert.deepEqual(rec.events, [{ kind: "user-clearance", jid: "alice@example.mil" }]);
      await s.setServiceClearance("muc.example.mil", BER_ALL_OKAY);
      await s.deletePeerClearance("peer.example", "inbound");
      assert.deepEqual(
        rec.events.map((e) => e.kind),
        ["user-clearance", "service-clearance", "peer-clearance"],
      );
    } finally {
      proxy.release();
      await s.close();
      proxy.close();
      await r.stop();
    }
  });

  test("a connection the client library ends (status end) is connected again: back without a restart, notifications included", async () => {
    // ioredis ends a connection for good when its retry strategy gives up, or when a connector ends it
    // (its Sentinel failoverDetector did, mid-reconnection). A retry strategy that gives up at once
    // makes that deterministic here; on the old code the store stayed down until restarted.
    const r = await startRedis();
    const end = { redisOptions: { retryStrategy: () => null }, maxReconnectDelayMs: 100, cacheTtlMs: 0 };
    const s = new RedisStore({ url: r.url, ...end });
    const other = new RedisStore({ url: r.url, maxReconnectDelayMs: 100 });
    try {
      await s.ready();
      await r.kill();
      assert.equal((await s.getUserClearance("alice@example.mil")).status, "unknown");
      await r.restart();
      await s.ready(10_000);
      await other.ready(10_000);
      const rec = recorder();
      s.subscribe(rec.listener);
      await other.setUserClearance("alice@example.mil", BER_ALL_OKAY);
      await eventually(
        () => rec.events.some((e) => e.kind === "user-clearance"),
        "notifications on the reconnected subscriber",
      );
      assert.equal((await s.getUserClearance("alice@example.mil")).status, "known");
    } finally {
      await s.close();
      await other.close();
      await r.stop();
    }
  });

  test("a store created while Redis is down answers unknown, then works once Redis is up", async () => {
    const r = await startRedis();
    await r.kill();
    const s = new RedisStore({ url: r.url, maxReconnectDelayMs: 100 });
    try {
      assert.equal((await s.getUserClearance("a@example.mil")).status, "unknown");
      await assert.rejects(s.ready(300), StoreUnavailableError);
      await r.restart();
      await s.ready(10_000);
      assert.equal((await s.getUserClearance("a@example.mil")).status, "none");
    } finally {
      await s.close();
      await r.stop();
    }
  });
});
