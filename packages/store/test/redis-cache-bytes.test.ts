// The store's clearance cache is bounded in bytes (ttl-cache.ts): its keys and values are users'
// JIDs and clearances, as large as whoever wrote them made them. Bounded by a count (10,000 entries)
// before: 200 users with 256 KB clearances read once each stayed in memory — 51 MB for a cache
// meant to be small. Real redis-server; heap measured after a full GC.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { startRedis, type RedisInstance } from "@cordon/harness";
import { RedisStore, type RawClearance } from "../src/index.js";

const USERS = 200;
const VALUE_CHARS = 256 * 1024;
const BUDGET = 2 * 1024 * 1024;

function large(i: number): RawClearance {
  return { encoding: "xml", data: `<clearance n='${i}'>${"x".repeat(VALUE_CHARS)}</clearance>` };
}

describe("RedisStore: the clearance cache is bounded in bytes", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  test("large clearances read once each keep at most the budget in memory", async (t) => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    redis = await startRedis();
    const writer = new RedisStore({ url: redis.url, prefix: "bytes:", cacheTtlMs: 0 });
    const reader = new RedisStore({
      url: redis.url,
      prefix: "bytes:",
      cacheTtlMs: 60_000,
      cacheMaxBytes: BUDGET,
    });
    try {
      await Promise.all([writer.ready(), reader.ready()]);
      for (let i = 0; i < USERS; i++) await writer.setUserClearance(`user${i}@example.test`, large(i));
      // (warm-up: code paths compiled, connections' buffers grown)
      await reader.getUserClearance("warm@example.test");
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < USERS; i++) {
        const got = await reader.getUserClearance(`user${i}@example.test`);
        assert.equal(got.status === "known" && got.source, "store");
      }
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      t.diagnostic(`${(grown / 1e6).toFixed(1)} MB kept, ${USERS} users of ${VALUE_CHARS / 1024} KB read`);
      assert.ok(
        grown < BUDGET + 4 * 1024 * 1024,
        `${(grown / 1e6).toFixed(1)} MB kept by the cache of ${(BUDGET / 1e6).toFixed(1)} MB`,
      );
      // Still a cache: the most recent answers are reused, the oldest were let go. (After the pause
      // of a full GC the cache is trusted again once a PING tells that notifications were heard.)
      await reader.notificationsHeard();
      const recent = await reader.getUserClearance(`user${USERS - 1}@example.test`);
      assert.equal(recent.status === "known" && recent.source, "cache");
      const oldest = await reader.getUserClearance("user0@example.test");
      assert.equal(oldest.status === "known" && oldest.source, "store");
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});
