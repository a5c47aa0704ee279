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
