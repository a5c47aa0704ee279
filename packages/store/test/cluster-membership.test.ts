// RedisMembership (the leases of SlotTakeover, packages/muc/src/cluster/slot-takeover.ts) against a
// real Redis: renewals, read-only beats, expiry by Redis server time, leave, one hash-tagged slot.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis, startRedisSentinel, type RedisInstance } from "@cordon/harness";
import { DuplicateInstanceError, InvalidValueError, RedisMembership } from "../src/index.js";

describe("RedisMembership", () => {
  let redis: RedisInstance;
  let raw: Redis;
  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  after(async () => {
    raw.disconnect();
    await redis.stop();
  });

  test("live instances with their link counts; a read-only beat does not renew; leave drops at once", async () => {
    const m = new RedisMembership({
      url: redis.url,
      prefix: "t1",
      group: "rooms.example.test",
      leaseMs: 5000,
    });
    try {
      assert.deepEqual([...(await m.beat("a", 1))], [["a", 1]]);
      assert.deepEqual([...(await m.beat("b", 2))].sort(), [
        ["a", 1],
        ["b", 2],
      ]);
      assert.deepEqual([...(await m.beat("c", undefined))].sort(), [
        ["a", 1],
        ["b", 2],
      ]);
      await m.leave("b");
      assert.deepEqual([...(await m.beat("a", 1))], [["a", 1]]);
      // Both keys share one hash tag (one Redis Cluster slot) and expire when nobody beats.
      const keys = (await raw.keys("t1:*")).sort();
      assert.deepEqual(keys, [
        "t1:cluster:{rooms.example.test}:leases",
        "t1:cluster:{rooms.example.test}:links",
        "t1:cluster:{rooms.example.test}:names",
        "t1:cluster:{rooms.example.test}:tokens",
      ]);
      for (const k of keys) assert.ok((await raw.pttl(k)) > 0);
    } finally {
      await m.close();
    }
  });

  test("a lease not renewed within leaseMs is gone at the next beat of anyone", async () => {
    const m = new RedisMembership({
      url: redis.url,
      prefix: "t2",
      group: "rooms.example.test",
      leaseMs: 200,
    });
    try {
      await m.beat("a", 1);
      await m.beat("b", 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual([...(await m.beat("a", 1))], [["a", 1]]);
      assert.equal(await raw.hexists("t2:cluster:{rooms.example.test}:links", "b"), 0);
    } finally {
      await m.close();
    }
  });

  test("two processes given one instance name: the second is refused while the first renews; its leave drops nothing; the name is free once the first is gone", async () => {
    const options = { url: redis.url, prefix: "t4", group: "rooms.example.test", leaseMs: 300 };
    const first = new RedisMembership(options);
    const second = new RedisMembership(options);
    try {
      await first.beat("node1", 1);
      await assert.rejects(second.beat("node1", 1), (e: Error) => {
        assert.ok(e instanceof DuplicateInstanceError);
        assert.equal(e.code, "CORDON_STORE_DUPLICATE_INSTANCE");
        return true;
      });
      // A claim without a lease (a standby, a link not up) is refused too, and claims too.
      await assert.rejects(second.beat("node1", undefined), DuplicateInstanceError);
      await second.leave("node1");
      assert.deepEqual([...(await first.beat("node1", 1))], [["node1", 1]], "not the second's to leave");
      // A name claimed without a lease holds as well: the first, standing by, still owns it.
      await first.beat("node1", undefined);
      await assert.rejects(second.beat("node1", undefined), DuplicateInstanceError);
      // The first crashes (no more renewals): once its claim lapses, the second takes the name.
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual([...(await second.beat("node1", 2))], [["node1", 2]]);
      await assert.rejects(first.beat("node1", 1), DuplicateInstanceError);
      // A clean stop frees it at once.
      await second.leave("node1");
      assert.deepEqual([...(await first.beat("node1", 1))], [["node1", 1]]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("adv44: simultaneous claims of one name: exactly one process gets it; the token compare is exact; names with { } : stay members", async () => {
    const options = { url: redis.url, prefix: "t5", group: "rooms.example.test", leaseMs: 5000 };
    const racers = Array.from({ length: 8 }, () => new RedisMembership(options));
    const other = new RedisMembership({ ...options, group: "rooms.example.test:leases" });
    try {
      const results = await Promise.allSettled(racers.map((m) => m.beat("node1", 1)));
      const won = results.filter((r) => r.status === "fulfilled");
      assert.equal(won.length, 1, "one winner");
      for (const r of results)
        if (r.status === "rejected") assert.ok(r.reason instanceof DuplicateInstanceError);
      const winner = racers[results.findIndex((r) => r.status === "fulfilled")]!;
      // Exact compare: the stored token with one character less (or more) is another process's.
      const tokens = "t5:cluster:{rooms.example.test}:tokens";
      const token = (await raw.hget(tokens, "node1"))!;
      for (const forged of [
        token.slice(0, -1),
        `${token}x`,
        token.toUpperCase() === token ? "" : token.toUpperCase(),
      ]) {
        if (forged === "") continue;
        await raw.hset(tokens, "node1", forged);
        await assert.rejects(winner.beat("node1", 1), DuplicateInstanceError);
      }
      await raw.hset(tokens, "node1", token);
      await winner.beat("node1", 1);
      // Hash-tag and separator characters in an instance name are members, never key parts.
      const odd = ["x}:leases", "{rooms.example.test}", "a:b:c", "}{", "node1 "];
      for (const name of odd) await winner.beat(name, 1);
      await other.beat("node1", 1); // another group: its own keys, its own claim on "node1"
      const keys = (await raw.keys("t5:*")).sort();
      assert.deepEqual(keys, [
        "t5:cluster:{rooms.example.test:leases}:leases",
        "t5:cluster:{rooms.example.test:leases}:links",
        "t5:cluster:{rooms.example.test:leases}:names",
        "t5:cluster:{rooms.example.test:leases}:tokens",
        "t5:cluster:{rooms.example.test}:leases",
        "t5:cluster:{rooms.example.test}:links",
        "t5:cluster:{rooms.example.test}:names",
        "t5:cluster:{rooms.example.test}:tokens",
      ]);
      assert.deepEqual(
        [...(await winner.beat("", undefined)).keys()].sort(),
        ["node1", ...odd].sort(),
        "the other group's claim is not in this one",
      );
      await assert.rejects(racers.find((m) => m !== winner)!.beat("x}:leases", 1), DuplicateInstanceError);
    } finally {
      for (const m of [...racers, other]) await m.close();
    }
  });

  test("adv44: a process refused while it had live links marks the name contested for the holder's next claim (once); a standby's refusal does not", async () => {
    const options = { url: redis.url, prefix: "t6", group: "rooms.example.test", leaseMs: 5000 };
    const holder = new RedisMembership(options);
    const stale = new RedisMembership(options);
    try {
      assert.equal((await holder.beat("node1", 1)).contested, undefined);
      await assert.rejects(stale.beat("node1", undefined), DuplicateInstanceError);
      await assert.rejects(stale.beat("node1", 0), DuplicateInstanceError);
      assert.equal((await holder.beat("node1", 1)).contested, undefined, "no links: nothing freed");
      await assert.rejects(stale.beat("node1", 2), DuplicateInstanceError);
      assert.equal((await holder.beat("node1", 1)).contested, true);
      assert.equal((await holder.beat("node1", 1)).contested, undefined, "taken once");
      assert.equal((await stale.beat("", undefined)).contested, undefined, "a read takes nothing");
      // The stale process's leave drops nothing of the holder's.
      await stale.leave("node1");
      assert.deepEqual([...(await holder.beat("node1", 1))], [["node1", 1]]);
    } finally {
      await holder.close();
      await stale.close();
    }
  });

  test("a group that would break the hash tag is refused", () => {
    assert.throws(() => new RedisMembership({ url: redis.url, group: "a}b" }), InvalidValueError);
    assert.throws(() => new RedisMembership({ url: redis.url, group: "" }), InvalidValueError);
    assert.throws(
      () => new RedisMembership({ sentinels: [{ host: "127.0.0.1", port: 1 }], group: "g" }),
      InvalidValueError,
    );
  });

  test("through Redis Sentinel (what `cordon start` passes for store.redis.sentinels); a beat fails fast while Redis is gone", async () => {
    const sentinel = await startRedisSentinel(redis, "cordon");
    const m = new RedisMembership({
      sentinels: [{ host: "127.0.0.1", port: sentinel.port }],
      sentinelName: "cordon",
      prefix: "t3",
      group: "rooms.example.test",
      leaseMs: 2000,
    });
    const down = new RedisMembership({
      url: "redis://127.0.0.1:1",
      group: "rooms.example.test",
      leaseMs: 500,
    });
    try {
      assert.deepEqual([...(await m.beat("a", 1))], [["a", 1]]);
      assert.equal(await raw.hget("t3:cluster:{rooms.example.test}:links", "a"), "1");
      // No Redis: the beat rejects (SlotTakeover then takes no decision: fail closed), within a lease.
      const t0 = Date.now();
      await assert.rejects(down.beat("a", 1));
      assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
    } finally {
      await m.close();
      await down.close();
      await sentinel.stop();
    }
  });
});
