// Adversarial review adv15r: the outage grace of a failed read ("a cached answer within its TTL,
// judged at failure time") must be judged on a clock that only goes forward. The TTL cache aged its
// entries by the wall clock (Date.now): a wall clock stepped back (NTP step, VM restore, an
// operator's `date -s`) made every cached answer younger by the step, so with Redis unreachable
// from this process (a partition: both connections cut) a clearance lowered meanwhile by another
// process was answered at its old value for as long as the step, not for at most the TTL. Real
// redis-server; a proxy in front of this store's two connections is cut; Date.now is stepped back
// one hour. Before the fix: "known" (the old clearance, from the cache) 1.5 s after a 1 s TTL.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { XML_CLEARANCE, cachedBehindProxy } from "./helpers.js";

const JID = "carol@example.mil";
const TTL_MS = 1000;

describe("RedisStore: the outage grace and a wall clock stepped back", () => {
  let redis: RedisInstance | undefined;
  const realNow = Date.now;
  after(async () => {
    Date.now = realNow;
    await redis?.stop();
  });

  test("a failed read after the TTL is unknown, however far back the wall clock went", async () => {
    redis = await startRedis();
    const proxy = await subscriberDelay(redis.port);
    let step = 0;
    Date.now = () => realNow() + step;
    const { store, admin } = await cachedBehindProxy(
      {
        url: proxy.url,
        redisUrl: redis.url,
        prefix: "clockjump:",
        cacheTtlMs: TTL_MS,
        commandTimeoutMs: 300,
      },
      JID,
    );
    try {
      proxy.close(); // a partition: this store reaches Redis on neither connection
      await admin.setUserClearance(JID, XML_CLEARANCE); // lowered elsewhere, unheard here
      step = -3_600_000; // the wall clock stepped back one hour
      await new Promise((r) => setTimeout(r, TTL_MS + 500));
      const read = await store.getUserClearance(JID);
      assert.equal(
        read.status,
        "unknown",
        `${TTL_MS + 500} ms after it was cached (TTL ${TTL_MS} ms) the old clearance must not be answered: ${JSON.stringify(read.status === "known" ? { source: read.source, encoding: read.clearance.encoding } : read)}`,
      );
    } finally {
      Date.now = realNow;
      await store.close();
      await admin.close();
    }
  });
});
