import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, type ClearanceStore } from "@cordon/store";
import { instrumentStore } from "../../src/metrics/store-metrics.js";
import { createMetrics } from "../../src/metrics/registry.js";

test("store calls are timed per operation; rejections and unknown lookups count as errors", async () => {
  const metrics = createMetrics({ processMetrics: false });
  const memory = new MemoryStore();
  const store = instrumentStore<ClearanceStore>(memory, metrics, "store");
  await store.setUserClearance("alice@example.test", { encoding: "ber", data: "AAAA" });
  const found = await store.getUserClearance("alice@example.test");
  assert.equal(found.status, "known");
  await assert.rejects(store.setUserClearance("not a jid", { encoding: "ber", data: "AAAA" }));
  const unknown = instrumentStore(
    { getUserClearance: async () => ({ status: "unknown" as const, reason: "down" }) },
    metrics,
    "users",
  );
  await unknown.getUserClearance();
  const body = (await metrics.text()).body;
  assert.match(
    body,
    /^cordon_store_duration_seconds_count\{backend="store",operation="getUserClearance"\} 1$/m,
  );
  assert.match(
    body,
    /^cordon_store_duration_seconds_count\{backend="store",operation="setUserClearance"\} 2$/m,
  );
  assert.match(body, /^cordon_store_errors_total\{backend="store",operation="setUserClearance"\} 1$/m);
  assert.match(body, /^cordon_store_errors_total\{backend="users",operation="getUserClearance"\} 1$/m);
  // Synchronous members pass through untouched.
  const unsubscribe = store.subscribe(() => undefined);
  assert.equal(typeof unsubscribe, "function");
  unsubscribe();
  await store.close();
});
