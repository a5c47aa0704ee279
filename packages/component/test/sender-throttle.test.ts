import { test } from "node:test";
import assert from "node:assert/strict";
import { SenderThrottle, throttledSpec, RESOURCE_CONSTRAINT } from "../src/sender-throttle.js";
import { xml } from "../src/xml.js";

test("within the burst every refusal is answered; past it resource-constraint once, then nothing", () => {
  let now = 0;
  const throttle = new SenderThrottle({ burst: 3, perMinute: 60, now: () => now });
  const verdicts = Array.from({ length: 6 }, () => throttle.refusal("mallory@a.test"));
  assert.deepEqual(verdicts, ["answer", "answer", "answer", "limit", "silent", "silent"]);
  assert.equal(throttle.limited, 1);
  assert.equal(throttle.silenced, 2);
  // Another sender is not affected.
  assert.equal(throttle.refusal("alice@a.test"), "answer");
  // One refusal a second comes back (60 a minute); the sender may be told again when it runs dry.
  now = 1000;
  assert.equal(throttle.refusal("mallory@a.test"), "answer");
  assert.equal(throttle.refusal("mallory@a.test"), "limit");
  // Refilled up to the burst, not beyond.
  now = 3_600_000;
  const later = Array.from({ length: 4 }, () => throttle.refusal("mallory@a.test"));
  assert.deepEqual(later, ["answer", "answer", "answer", "limit"]);
});

test("the map of senders is bounded in bytes (least recently seen forgotten first)", () => {
  const throttle = new SenderThrottle({ burst: 1, maxBytes: 10_000 });
  for (let i = 0; i < 10_000; i++) throttle.refusal(`user${i}@flood.test`);
  assert.ok(throttle.bytes <= 10_000, `${throttle.bytes} bytes`);
  assert.ok(throttle.senders < 100);
});

test("throttledSpec counts per bare JID: every resource of one account shares the bucket", () => {
  const throttle = new SenderThrottle({ burst: 1 });
  const spec = { condition: "forbidden", type: "cancel" } as const;
  const from = (r: string) => xml("message", { from: `m@a.test/${r}`, to: "room@muc.test" });
  assert.deepEqual(throttledSpec(throttle, from("one"), spec), spec);
  assert.deepEqual(throttledSpec(throttle, from("two"), spec), RESOURCE_CONSTRAINT);
  assert.equal(throttledSpec(throttle, from("three"), spec), undefined);
});
