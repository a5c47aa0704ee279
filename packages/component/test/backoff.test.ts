import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackoff } from "../src/backoff.js";

test("delays grow exponentially up to the cap", () => {
  const backoff = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  const delays = Array.from({ length: 8 }, () => backoff.next());
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  assert.equal(backoff.attempts, 8);
});

test("jitter keeps delays between a tenth of the ceiling and the ceiling", () => {
  const low = createBackoff({ initialMs: 1000, maxMs: 8000, random: () => 0 });
  assert.deepEqual([low.next(), low.next(), low.next()], [100, 200, 400]);
  const backoff = createBackoff({ initialMs: 1000, maxMs: 8000 });
  for (let i = 0; i < 50; i++) {
    const ceiling = Math.min(8000, 1000 * 2 ** i);
    const d = backoff.next();
    assert.ok(d >= ceiling * 0.1 - 1 && d <= ceiling, `attempt ${i}: ${d}`);
  }
});

test("reset starts again from the first delay", () => {
  const backoff = createBackoff({ initialMs: 50, maxMs: 10_000, random: () => 0.999999 });
  backoff.next();
  backoff.next();
  backoff.reset();
  assert.equal(backoff.attempts, 0);
  assert.equal(backoff.next(), 50);
});
