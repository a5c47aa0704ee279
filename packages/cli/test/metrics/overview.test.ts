// The console's Overview numbers: totals of decisions from the process metrics, a time series of
// per-interval counts in a ring buffer that never holds more than its points, store health from a
// probe lookup, directory health from its error counter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, type ClearanceStore } from "@cordon/store";
import { createMetrics } from "../../src/metrics/registry.js";
import { OverviewCollector } from "../../src/metrics/overview.js";

test("totals and refusals by reason come from cordon_decisions_total; the series holds per-interval counts", async () => {
  const metrics = createMetrics({ processMetrics: false });
  const collector = new OverviewCollector({
    metrics,
    components: () => [{ name: "muc", ready: true, links: [] }],
    store: { kind: "memory", store: new MemoryStore() },
    points: 3,
  });
  metrics.decisions.labels("muc", "grant", "CORDON_ACDF_GRANTED").inc(5);
  metrics.decisions.labels("muc", "deny", "join:CORDON_ACDF_CLASSIFICATION").inc(2);
  metrics.decisions.labels("relay", "deny", "CORDON_RELAY_PEER").inc(1);
  await collector.sample();
  metrics.decisions.labels("muc", "grant", "CORDON_ACDF_GRANTED").inc(3);
  await collector.sample();
  const o = await collector.overview();
  assert.deepEqual(o.totals, {
    deliveries: 8,
    refusals: 3,
    refusalsByReason: { "join:CORDON_ACDF_CLASSIFICATION": 2, CORDON_RELAY_PEER: 1 },
  });
  assert.deepEqual(
    o.series.map((p) => [p.deliveries, p.refusals]),
    [
      [5, 3],
      [3, 0],
    ],
  );
  assert.deepEqual(o.store, { kind: "memory", healthy: true });
  assert.equal(o.directory, undefined);
  assert.equal(o.intervalSeconds, 10);
  for (let i = 0; i < 10; i++) await collector.sample();
  assert.equal((await collector.overview()).series.length, 3, "bounded by points");
});

test("a store that answers unknown is unhealthy; directory errors since the last sample make it unhealthy", async () => {
  const metrics = createMetrics({ processMetrics: false });
  let down = false;
  const store = {
    getUserClearance: async () => (down ? { status: "unknown", reason: "redis down" } : { status: "none" }),
  } as unknown as ClearanceStore;
  const collector = new OverviewCollector({
    metrics,
    components: () => [],
    store: { kind: "redis", store },
    directory: new MemoryStore(),
  });
  await collector.sample();
  assert.deepEqual((await collector.overview()).store, { kind: "redis", healthy: true });
  assert.deepEqual((await collector.overview()).directory, { healthy: true });
  down = true;
  metrics.storeErrors.labels("users", "getUserClearance").inc();
  await collector.sample();
  const o = await collector.overview();
  assert.deepEqual(o.store, { kind: "redis", healthy: false });
  assert.deepEqual(o.directory, { healthy: false });
  down = false;
  await collector.sample();
  assert.deepEqual((await collector.overview()).directory, { healthy: true }, "no new errors");
  assert.equal((await collector.overview()).store.healthy, true);
});
