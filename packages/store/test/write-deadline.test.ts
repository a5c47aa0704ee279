// WriteDeadline (write-deadline.ts): the deadline of a clearance write in Redis's milliseconds —
// never later than the caller's timeout on our clock, whatever the measured offset; measured again
// on a new connection and after REMEASURE_MS; a failed measurement is retried.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { REMEASURE_MS, WriteDeadline } from "../src/write-deadline.js";

describe("WriteDeadline", () => {
  test("deadline = our now + offset + timeout − round trip − margin; measured once, again when old", async () => {
    let now = 1000;
    let calls = 0;
    // Redis's clock is 5,000,000 ms ahead; each TIME takes 4 ms of ours.
    const time = async (): Promise<string[]> => {
      calls++;
      const redisMs = now + 2 + 5_000_000;
      now += 4;
      return [String(Math.floor(redisMs / 1000)), String((redisMs % 1000) * 1000)];
    };
    const d = new WriteDeadline(time, 300, () => now);
    const first = await d.deadline();
    // offset 5,000,000 (the midpoint), rtt 4, margin min(50, 30) = 30.
    assert.equal(first, Math.floor(now + 5_000_000 + 300 - 4 - 30));
    assert.equal(calls, 1);
    await d.deadline();
    assert.equal(calls, 1, "not measured again while young");
    now += REMEASURE_MS + 1;
    await d.deadline();
    assert.equal(calls, 2, "measured again when old");
    d.reset();
    await d.deadline();
    assert.equal(calls, 3, "measured again on a new connection");
  });

  test("a measurement that fails rejects the write, and is tried again by the next one", async () => {
    let fail = true;
    const d = new WriteDeadline(
      async () => {
        if (fail) throw new Error("no answer");
        return ["1", "0"];
      },
      300,
      () => 0,
    );
    await assert.rejects(d.deadline(), /no answer/u);
    fail = false;
    assert.equal(typeof (await d.deadline()), "number");
  });
});
