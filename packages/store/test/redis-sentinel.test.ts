// The Redis store through Redis Sentinel (ioredis `sentinels`): a real redis-server and a real
// sentinel on loopback; the store finds the master through the sentinel, and two clients see each
// other's changes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, startRedisSentinel, type RedisInstance, type RedisSentinel } from "@cordon/harness";
import { RedisStore } from "../src/redis-store.js";
import type { StoreEvent } from "../src/types.js";

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
