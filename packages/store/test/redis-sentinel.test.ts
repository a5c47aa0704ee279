// The Redis store through Redis Sentinel (ioredis `sentinels`): a real redis-server and a real
// sentinel on loopback; the store finds the master through the sentinel, and two clients see each
// other's changes.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startRedis,
  startRedisSentinel,
  startRedisSentinelSet,
  type RedisInstance,
  type RedisSentinel,
  type RedisSentinelSet,
} from "@cordon/harness";
import { RedisStore } from "../src/redis-store.js";
import { StoreUnavailableError } from "../src/errors.js";
import type { StoreEvent } from "../src/types.js";
import { BER_ALL_OKAY, XML_CLEARANCE, eventually, memoryLogger, recorder } from "./helpers.js";

let redis: RedisInstance;
let sentinel: RedisSentinel;

before(async () => {
  redis = await startRedis();
  sentinel = await startRedisSentinel(redis, "cordon-test");
});

after(async () => {
  await sentinel?.stop();
  await redis?.stop();
});

test("a store configured with sentinels reaches the master, and notifications cross clients", async () => {
  const options = {
    sentinels: [{ host: "127.0.0.1", port: sentinel.port }],
    sentinelName: sentinel.name,
    prefix: "sentinel-test",
  };
  const a = new RedisStore(options);
  const b = new RedisStore(options);
  try {
    await a.ready(10_000);
    await b.ready(10_000);
    const seen = new Promise<StoreEvent>((resolve) => {
      const off = b.subscribe((event) => {
        off();
        resolve(event);
      });
    });
    await a.setUserClearance("alice@example.test", { encoding: "xml", data: "<clearance/>" });
    assert.deepEqual(await seen, { kind: "user-clearance", jid: "alice@example.test" });
    const lookup = await b.getUserClearance("alice@example.test");
    assert.equal(lookup.status, "known");
    assert.deepEqual(lookup.status === "known" && lookup.clearance, {
      encoding: "xml",
      data: "<clearance/>",
    });
  } finally {
    await a.close();
    await b.close();
  }
});

// Failover during use: a primary, a replica and three sentinels (harness startRedisSentinelSet, the
// Debian redis-server binary only). The primary is SIGKILLed; Sentinel promotes the replica (Redis
// documentation, "High availability with Redis Sentinel"). Meanwhile the store fails closed
// (lookups "unknown" once the cache TTL is over, writes StoreUnavailableError); afterwards it is
// back by itself: data replicated before the kill is there, and a change written after the failover
// reaches the other client through its re-subscribed pub/sub connection.
describe("RedisStore through a Sentinel failover", () => {
  let set: RedisSentinelSet;
  before(async () => {
    set = await startRedisSentinelSet({ name: "cordon-failover", replicas: 1, sentinels: 3 });
    await set.waitForReplication();
  });
  after(async () => {
    await set?.stop();
  });

  test("the primary is killed: fail closed during the outage, back by itself on the promoted replica, notifications resumed", async () => {
    const { logger, lines } = memoryLogger();
    const options = {
      sentinels: [...set.sentinels],
      sentinelName: set.name,
      prefix: "failover:",
      cacheTtlMs: 300,
      maxReconnectDelayMs: 200,
    };
    const reader = new RedisStore({ ...options, logger });
    const writer = new RedisStore(options);
    const seen = recorder();
    try {
      await reader.ready(10_000);
      await writer.ready(10_000);
      reader.subscribe(seen.listener);
      await writer.setUserClearance("alice@example.test", BER_ALL_OKAY);
      await writer.putRoom({ jid: "r@rooms.example.test", config: {}, affiliations: {}, persistent: true });
      await writer.appendRoomHistory("r@rooms.example.test", "before the failover");
      // Replication is asynchronous: wait until the replica has the writes (harness syncReplicas).
      const primary = await set.primaryPort();
      await set.syncReplicas();
      assert.equal((await reader.getUserClearance("alice@example.test")).status, "known");

      const killedAt = Date.now();
      await set.killPrimary();
      // Fail closed while no primary answers: after the cache TTL, "unknown"; writes throw.
      await eventually(
        async () => (await reader.getUserClearance("alice@example.test")).status === "unknown",
        "lookups turn unknown",
      );
      await assert.rejects(writer.setUserClearance("bob@example.test", BER_ALL_OKAY), StoreUnavailableError);
      const promoted = await set.waitForFailover(primary, 30_000);
      assert.notEqual(promoted, primary);

      // Back by itself, no new store: both connections follow the sentinels to the promoted replica.
      await reader.ready(30_000);
      await writer.ready(30_000);
      const back = await eventually(async () => {
        const r = await reader.getUserClearance("alice@example.test");
        return r.status === "known" ? r : undefined;
      }, "lookups known again");
      const failoverMs = Date.now() - killedAt;
      assert.deepEqual(back.status === "known" && back.clearance, BER_ALL_OKAY);
      assert.deepEqual(await reader.getRoomHistory("r@rooms.example.test"), ["before the failover"]);
      assert.equal((await reader.getRoom("r@rooms.example.test"))?.persistent, true);

      // A change written after the failover reaches the reader by pub/sub (no polling: its cache
      // TTL is long over, but the event itself must arrive).
      const mark = seen.events.length;
      await writer.setUserClearance("alice@example.test", XML_CLEARANCE);
      await eventually(
        () =>
          seen.events.slice(mark).some((e) => e.kind === "user-clearance" && e.jid === "alice@example.test"),
        "the post-failover notification",
        5000,
      );
      const changed = await reader.getUserClearance("alice@example.test");
      assert.deepEqual(changed.status === "known" && changed.clearance, XML_CLEARANCE);

      // The outage was reported to listeners (the MUC re-reads on these) and logged once each way.
      const states = seen.events.filter((e) => e.kind === "connection").map((e) => e.state);
      assert.deepEqual(states.slice(0, 1), ["down"]);
      assert.ok(states.includes("up"));
      assert.equal(lines().filter((l) => l.msg === "redis connection lost").length, 1);
      assert.equal(lines().filter((l) => l.msg === "redis connection restored").length, 1);
      console.log(`# sentinel failover: kill -> lookups known again in ${failoverMs} ms`);

      // The killed primary comes back as a replica (Sentinel reconfigures it); the store stays on the
      // promoted one and writes keep working (ioredis checks the role of what the sentinels name).
      const old = set.nodes.find((n) => !n.running)!;
      await old.restart(promoted);
      await writer.setUserClearance("carol@example.test", BER_ALL_OKAY);
      assert.equal((await reader.getUserClearance("carol@example.test")).status, "known");
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
