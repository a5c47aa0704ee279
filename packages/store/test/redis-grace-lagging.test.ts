// Adversarial review adv15r: the outage grace (a failed read answered from the cache within its
// TTL) was refused only once "behind" — a PING given up. A read that goes to Redis while the
// subscriber is live but not current (here: the first lookup after a quiet spell, stall-watch.ts)
// and fails before the PING does — it was sent before that PING, so it times out first — was
// answered from the cache: the very answer a notification held on the same congested path would
// have dropped. Real redis-server; a proxy holds what Redis sends on both of this store's
// connections (a congested path to Redis); the clearance is lowered by another process just
// before the read. Before the fix: the old clearance (BER, from the cache) answered ~1 s later,
// the lowering published before the read was sent.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { XML_CLEARANCE, cachedBehindProxy, eventually } from "./helpers.js";

const JID = "dave@example.mil";
const TIMEOUT_MS = 1000;

describe("RedisStore: no outage grace while the subscriber is live but not current", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  test("a read failing before the PING gives up answers unknown, not the cached clearance", async () => {
    redis = await startRedis();
    const proxy = await subscriberDelay(redis.port);
    const { store, admin } = await cachedBehindProxy(
      {
        url: proxy.url,
        redisUrl: redis.url,
        prefix: "gracelag:",
        cacheTtlMs: 60_000,
        commandTimeoutMs: TIMEOUT_MS,
      },
      JID,
    );
    try {
      // A quiet spell: the next lookup finds a gap and reads Redis rather than its cache.
      await new Promise((r) => setTimeout(r, 1500));
      proxy.holdAll();
      await admin.setUserClearance(JID, XML_CLEARANCE); // lowered; unheard here
      const read = await store.getUserClearance(JID);
      assert.notEqual(
        read.status === "known" ? read.clearance.encoding : read.status,
        "ber",
        `the clearance lowered before the read was answered at its old value: ${JSON.stringify(read.status === "known" ? { source: read.source } : read.status)}`,
      );
      proxy.release();
      await eventually(async () => {
        const r = await store.getUserClearance(JID);
        return r.status === "known" && r.clearance.encoding === "xml";
      }, "the lowered clearance once the path clears");
    } finally {
      proxy.close();
      await store.close();
      await admin.close();
    }
  });
});
