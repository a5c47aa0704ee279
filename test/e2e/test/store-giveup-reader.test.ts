// Adversarial review adv13s: the incoming hold (component incoming-hold.ts) lets held stanzas go
// when the store's PING gives up — the subscriber connection still "ready", its messages delayed
// (here: a proxy that holds what Redis sends on the connection that subscribed). The store then
// reads Redis instead of its own cache; but the clearance reader above it (@cordon/rules
// clearance-reader.ts: the relay's, the MUC's and the catalog's, 5 s) answered from its kept copy,
// and the stanza was decided SECRET for a user lowered to UNCLASSIFIED before it was sent.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { createIncomingHold, xml, type Element } from "@cordon/component";
import { RedisStore } from "@cordon/store";
import { ClearanceReader } from "@cordon/rules";
import type { ClearanceState } from "@cordon/rules";
import { loadDemo } from "../src/demo.js";

const JID = "bob@example.mil";
const demo = loadDemo();
const levels = (s: ClearanceState) => (s.status === "known" ? s.clearance.classifications.length : -1);

describe("a PING give-up releases held stanzas (adv13s)", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  test("a stanza sent after a lowering, let go by the give-up, is decided with the lowered clearance", async () => {
    redis = await startRedis();
    const proxy = await subscriberDelay(redis.port);
    const prefix = "giveup:";
    const store = new RedisStore({
      url: proxy.url,
      prefix,
      cacheTtlMs: 60_000,
      commandTimeoutMs: 400,
    });
    const admin = new RedisStore({ url: redis.url, prefix });
    const reader = new ClearanceReader({ registry: demo.registry, store, maxAgeMs: 60_000 });
    try {
      await Promise.all([store.ready(), admin.ready()]);
      await admin.setUserClearance(
        JID,
        demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"])),
      );
      // Its notification heard (a PING answered after it), then the answer read and kept.
      await new Promise((r) => setTimeout(r, 300));
      await store.notificationsHeard();
      assert.equal(levels(await reader.user(JID)), 4);
      const kept = reader.cachedUser(JID);
      assert.ok(kept && levels(kept) === 4, "the answer kept");

      // The subscriber's messages are delayed; bob is lowered (published, acknowledged); then a stanza.
      proxy.hold();
      await admin.setUserClearance(JID, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      // The barrier no longer current (older than maxLagMs): the stanza is held, the PING gives up.
      await new Promise((r) => setTimeout(r, 1300));
      const decided: number[] = [];
      const decisions: Promise<void>[] = [];
      const hold = createIncomingHold({
        dispatch: (stanza: Element) => {
          void stanza;
          const cached = reader.cachedUser(JID);
          decisions.push(
            (cached ? Promise.resolve(cached) : reader.user(JID)).then((s) => void decided.push(levels(s))),
          );
        },
        refuse: () => assert.fail("refused"),
      });
      hold.gate(() => store.notificationsHeard());
      hold.receive(xml("message", { from: "alice@example.mil/a", to: `room@muc/${JID}` }));
      const started = Date.now();
      while (decisions.length === 0 && Date.now() - started < 5000)
        await new Promise((r) => setTimeout(r, 20));
      await Promise.all(decisions);
      assert.deepEqual(decided, [1], "decided with bob's lowered clearance (UNCLASSIFIED), not SECRET");
      proxy.release();
    } finally {
      proxy.release();
      reader.close();
      await Promise.allSettled([store.close(), admin.close()]);
      proxy.close();
    }
  });
});
