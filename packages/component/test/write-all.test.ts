import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { createOutgoingQueue, type QueueSink } from "../src/outgoing-queue.js";
import { writeWithBackpressure } from "../src/write-all.js";

/** A socket stand-in that accepts one write at a time until flushed (pure logic test). */
class SlowSink extends EventEmitter implements QueueSink {
  writes: string[] = [];
  callbacks: ((e?: Error | null) => void)[] = [];
  write(data: string, callback: (error?: Error | null) => void): boolean {
    this.writes.push(data);
    this.callbacks.push(callback);
    return false; // always "full": the queue waits for drain after every write
  }
  flush() {
    const cbs = this.callbacks;
    this.callbacks = [];
    for (const cb of cbs) cb();
    this.emit("drain");
  }
}

test("several bursts waiting for room together all get through, in order per burst, with no rejection", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", limit: 2, batchChars: 1 });
  const sink = new SlowSink();
  queue.attach(sink);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const bursts = [1, 2, 3].map((b) =>
      writeWithBackpressure(
        queue,
        Array.from({ length: 20 }, (_, i) => `<${b}-${i}/>`),
      ),
    );
    let rounds = 0;
    while (sink.writes.length < 60 && rounds++ < 1000) {
      await new Promise((r) => setImmediate(r));
      sink.flush();
    }
    sink.flush(); // the last write's callback
    await Promise.all(bursts);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
    assert.equal(sink.writes.length, 60);
    for (const b of [1, 2, 3]) {
      const mine = sink.writes.filter((w) => w.startsWith(`<${b}-`));
      assert.deepEqual(
        mine,
        Array.from({ length: 20 }, (_, i) => `<${b}-${i}/>`),
      );
    }
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("a failure is reported once everything settled, and never as an unhandled rejection", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", limit: 1 });
  const writing = writeWithBackpressure(queue, ["<a/>", "<b/>"]);
  queue.close();
  await assert.rejects(writing, /stopped/);
});
