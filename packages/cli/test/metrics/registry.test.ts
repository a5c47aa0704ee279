import { test } from "node:test";
import assert from "node:assert/strict";
import { createMetrics } from "../../src/metrics/registry.js";

test("the registry exposes every Cordon metric as Prometheus text, with collect hooks run first", async () => {
  const m = createMetrics({ processMetrics: false });
  m.stanzasIn.labels("muc", "message").inc(3);
  m.decisions.labels("muc", "deny", "groupchat:sender-not-cleared").inc();
  m.fanout.labels("muc").observe(7);
  let collected = 0;
  m.onCollect(() => {
    collected++;
    m.queueDepth.labels("muc").set(4);
  });
  const { contentType, body } = await m.text();
  assert.equal(collected, 1);
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  assert.match(body, /^cordon_stanzas_in_total\{component="muc",kind="message"\} 3$/m);
  assert.match(
    body,
    /^cordon_decisions_total\{component="muc",outcome="deny",reason="groupchat:sender-not-cleared"\} 1$/m,
  );
  assert.match(body, /^cordon_fanout_size_bucket\{le="10",component="muc"\} 1$/m);
  assert.match(body, /^cordon_queue_depth\{component="muc"\} 4$/m);
  for (const name of [
    "cordon_stanzas_out_total",
    "cordon_reconnects_total",
    "cordon_links_online",
    "cordon_store_duration_seconds",
    "cordon_store_errors_total",
    "cordon_policy_reloads_total",
    "cordon_policy_generation",
  ]) {
    assert.match(body, new RegExp(`^# TYPE ${name} `, "m"), name);
  }
});

test("process metrics are on by default", async () => {
  const { body } = await createMetrics().text();
  assert.match(body, /^cordon_process_cpu_user_seconds_total /m);
});

test("the latency the modules reported is exposed as histograms: cumulative buckets, sum and count per kind", async () => {
  const { readLatencyReport } = await import("@cordon/guard");
  const { parseElement } = await import("@cordon/component");
  const m = createMetrics({ processMetrics: false });
  const report = readLatencyReport(
    parseElement(
      "<latency xmlns='urn:cordon:guard:0'>" +
        "<h of='hold' kind='cached' us='150' b='0:5,1:5'/>" + // ten of at most 10 µs / 16 µs
        "<h of='hold' kind='asked' us='3000' b='10:2'/>" + // two of at most 1 ms
        "<h of='round-trip' kind='asked' us='2500' b='10:2'/>" +
        "</latency>",
    ),
  );
  assert.ok(report);
  m.guardHold.add(report);
  m.guardRoundTrip.add(report);
  m.guardHold.add(report);
  m.guardRoundTrip.add(report);
  const { body } = await m.text();
  assert.match(body, /^# TYPE cordon_guard_hold_seconds histogram$/m);
  assert.match(body, /^# TYPE cordon_guard_round_trip_seconds histogram$/m);
  assert.match(body, /^cordon_guard_hold_seconds_bucket\{kind="cached",le="0.00001"\} 10$/m);
  assert.match(body, /^cordon_guard_hold_seconds_bucket\{kind="cached",le="0.000016"\} 20$/m);
  assert.match(body, /^cordon_guard_hold_seconds_bucket\{kind="cached",le="\+Inf"\} 20$/m);
  assert.match(body, /^cordon_guard_hold_seconds_count\{kind="cached"\} 20$/m);
  assert.match(body, /^cordon_guard_hold_seconds_sum\{kind="cached"\} 0.0003$/m);
  assert.match(body, /^cordon_guard_hold_seconds_bucket\{kind="asked",le="0.00063"\} 0$/m);
  assert.match(body, /^cordon_guard_hold_seconds_bucket\{kind="asked",le="0.001"\} 4$/m);
  assert.match(body, /^cordon_guard_round_trip_seconds_count\{kind="asked"\} 4$/m);
  assert.match(body, /^cordon_guard_round_trip_seconds_sum\{kind="asked"\} 0.005$/m);
  assert.doesNotMatch(body, /cordon_guard_round_trip_seconds_count\{kind="cached"\}/);
});
