// Adversarial review adv15r: a clearance write reported failed (command timeout) landed later, after
// a lowering another process made meanwhile — the user ended raised, the operator told the raise
// had failed. Real redis-server; a proxy holds what process A sends on its main connection (a
// congested path), then lets it go. Before the fix: A's raise failed after 301 ms, B's lowering
// returned, and Redis then held the raise. Now every clearance write carries a deadline Redis
// checks (write-deadline.ts): the late raise is refused and the lowering stands.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { RedisStore, type RawClearance } from "../src/index.js";
import { eventually } from "./helpers.js";

const HIGH: RawClearance = { encoding: "xml", data: "<high/>" };
const LOW: RawClearance = { encoding: "xml", data: "<low/>" };
const TIMEOUT_MS = 300;

describe("RedisStore: a write reported failed never lands later", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  for (const kind of ["user", "service", "peer"] as const) {
    test(`${kind} clearance: a raise that timed out does not overwrite a later lowering`, async () => {
      redis ??= await startRedis();
      const proxy = await subscriberDelay(redis.port);
      const prefix = `late-${kind}:`;
      const a = new RedisStore({ url: proxy.url, prefix, commandTimeoutMs: TIMEOUT_MS });
      const b = new RedisStore({ url: redis.url, prefix });
      const set = (s: RedisStore, c: RawClearance) =>
        kind === "user"
          ? s.setUserClearance("u@example.mil", c)
          : kind === "service"
            ? s.setServiceClearance("rooms.example.mil", c)
            : s.setPeerClearance("peer.example", "inbound", c);
      const get = (s: RedisStore) =>
        kind === "user"
          ? s.getUserClearance("u@example.mil")
          : kind === "service"
            ? s.getServiceClearance("rooms.example.mil")
            : s.getPeerClearance("peer.example", "inbound");
      try {
        await Promise.all([a.ready(), b.ready()]);
        await set(a, LOW); // (A has measured Redis's clock)
        proxy.holdRequests();
        await assert.rejects(set(a, HIGH), /failed/u, "the raise is reported failed");
        await set(b, LOW); // the operator lowers again, from another process
        proxy.release();
        // What A sent arrives now: it must not be applied.
        await new Promise((r) => setTimeout(r, 300));
        const stored = await get(b);
        assert.equal(
          stored.status === "known" ? stored.clearance.data : stored.status,
          LOW.data,
          "the lowering stands",
        );
        // A writes again once its path is clear.
        await eventually(async () => {
          await set(a, HIGH);
          return true;
        }, "a write through A again");
        const raised = await get(b);
        assert.equal(raised.status === "known" ? raised.clearance.data : raised.status, HIGH.data);
      } finally {
        proxy.close();
        await a.close();
        await b.close();
      }
    });
  }
});
