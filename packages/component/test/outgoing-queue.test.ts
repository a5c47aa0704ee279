import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { createOutgoingQueue, type QueueSink } from "../src/outgoing-queue.js";
import { NotConnectedError, QueueFullError, ComponentStoppedError } from "../src/errors.js";

/** A socket stand-in with a kernel buffer of `capacity` characters (pure logic test). */
class FakeSink extends EventEmitter implements QueueSink {
  writes: string[] = [];
  buffered = 0;
  callbacks: ((e?: Error | null) => void)[] = [];
  constructor(private capacity: number) {
    super();
  }
  write(data: string, callback: (error?: Error | null) => void): boolean {
    this.writes.push(data);
    this.buffered += data.length;
    this.callbacks.push(callback);
    return this.buffered < this.capacity;
  }
  /** The kernel takes everything: callbacks fire, then 'drain'. */
  flushAll() {
    const cbs = this.callbacks;
    this.callbacks = [];
    this.buffered = 0;
    for (const cb of cbs) cb();
    this.emit("drain");
  }
}

/** Lets the queue's pump (scheduled as a microtask by push) run. */
const pumped = () => Promise.resolve();

test("writes in order and resolves when the socket accepted the data", async () => {
  const queue = createOutgoingQueue({ domain: "c.test" });
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  const sent = [queue.push("<a/>"), queue.push("<b/>")];
  await pumped();
  sink.flushAll();
  await Promise.all(sent);
  assert.equal(sink.writes.join(""), "<a/><b/>");
  assert.equal(queue.depth, 0);
});

test("stops writing when the socket is full and resumes on drain", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", batchChars: 4 });
  const sink = new FakeSink(8);
  queue.attach(sink);
  const sent = Array.from({ length: 10 }, (_, i) => queue.push(`<${i}/>`));
  await pumped();
  // 8 chars of capacity: two 4-char writes, then the queue waits for drain.
  assert.equal(sink.writes.length, 2);
  assert.equal(queue.depth, 8);
  while (queue.depth > 0) sink.flushAll();
  sink.flushAll();
  await Promise.all(sent);
  assert.equal(sink.writes.join(""), Array.from({ length: 10 }, (_, i) => `<${i}/>`).join(""));
});

test("pushes made in one synchronous run (a fan-out) reach the socket as one write, after it", async () => {
  const queue = createOutgoingQueue({ domain: "c.test" });
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  const sent = Array.from({ length: 100 }, (_, i) => queue.push(`<m${i}/>`));
  assert.equal(sink.writes.length, 0, "nothing is written while the caller is still pushing");
  await pumped();
  assert.deepEqual(sink.writes, [Array.from({ length: 100 }, (_, i) => `<m${i}/>`).join("")]);
  sink.flushAll();
  await Promise.all(sent);
  assert.equal(queue.depth, 0);
});

test("batches several waiting stanzas into one write", async () => {
  const queue = createOutgoingQueue({ domain: "c.test" });
  const sent = [queue.push("<a/>"), queue.push("<b/>"), queue.push("<c/>")];
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  assert.deepEqual(sink.writes, ["<a/><b/><c/>"]);
  sink.flushAll();
  await Promise.all(sent);
});

test("is bounded: past the limit a push fails fast with QueueFullError", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", limit: 3 });
  const waiting = [queue.push("1"), queue.push("2"), queue.push("3")];
  assert.equal(queue.full, true);
  await assert.rejects(queue.push("4"), QueueFullError);
  let roomGiven = false;
  const room = queue.room().then(() => (roomGiven = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(roomGiven, false);
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  await room;
  assert.equal(roomGiven, true);
  sink.flushAll();
  await Promise.all(waiting);
});

test("stanzas waiting while offline fail with NotConnectedError after the timeout", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", offlineTimeoutMs: 30 });
  const err = await queue.push("<a/>").then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof NotConnectedError);
  assert.equal(err.code, "CORDON_COMPONENT_NOT_CONNECTED");
  assert.match(err.message, /c\.test/);
  assert.equal(queue.depth, 0);
});

test("detach keeps queued stanzas for the next connection", async () => {
  const queue = createOutgoingQueue({ domain: "c.test" });
  const first = new FakeSink(4);
  queue.attach(first);
  const sent = [queue.push("<aaaa/>")];
  await pumped(); // written; the socket is now full
  sent.push(queue.push("<b/>"));
  await pumped(); // waits for 'drain'
  queue.detach();
  assert.equal(queue.depth, 1);
  const second = new FakeSink(1_000_000);
  queue.attach(second);
  assert.deepEqual(second.writes, ["<b/>"]);
  first.flushAll();
  second.flushAll();
  await Promise.all(sent);
});

test("close fails what is queued and refuses new pushes", async () => {
  const queue = createOutgoingQueue({ domain: "c.test" });
  const pending = queue.push("<a/>");
  queue.close();
  await assert.rejects(pending, ComponentStoppedError);
  await assert.rejects(queue.push("<b/>"), ComponentStoppedError);
});

test("flush resolves true once everything was handed to the socket, false on timeout", async () => {
  const queue = createOutgoingQueue({ domain: "c.test" });
  void queue.push("<a/>").catch(() => undefined);
  assert.equal(await queue.flush(20), false);
  const sink = new FakeSink(1_000_000);
  const flushed = queue.flush(1000);
  queue.attach(sink);
  assert.equal(await flushed, true);
});

test("bounded in bytes too: past maxBytes waiting, pushes fail fast and sendAll-style waiters wait", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", maxBytes: 100 });
  // Offline: everything waits. 40 characters = 80 bytes: the queue is not yet full.
  const first = queue.push("x".repeat(40));
  first.catch(() => undefined);
  assert.equal(queue.bytes, 80);
  assert.equal(queue.full, false);
  // Accepted while under the limit, so the bound is maxBytes plus one stanza.
  const second = queue.push("y".repeat(40));
  second.catch(() => undefined);
  assert.equal(queue.bytes, 160);
  assert.equal(queue.full, true);
  await assert.rejects(queue.push("<z/>"), QueueFullError);
  let roomy = false;
  const room = queue.room().then(() => (roomy = true));
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  await pumped();
  sink.flushAll();
  await Promise.all([first, second, room]);
  assert.equal(roomy, true);
  assert.equal(queue.bytes, 0);
  queue.close();
});

test("pushMany: one group for many stanzas, bounded per stanza, split over writes, settled once all are written", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", limit: 5, batchChars: 8 });
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  const list = Array.from({ length: 7 }, (_, i) => `<${i}/>`);
  // The queue holds 5: the group takes the first 5, as five single pushes would have been accepted.
  const first = queue.pushMany(list);
  assert.equal(first.taken, 5);
  assert.equal(queue.depth, 5);
  assert.equal(queue.full, true);
  const none = queue.pushMany(list, 5);
  assert.equal(none.taken, 0);
  let settled = false;
  void first.written.then(() => (settled = true));
  await pumped();
  // 8 characters a write: the group goes as three writes; it is settled by the last one only.
  assert.deepEqual(sink.writes, ["<0/><1/>", "<2/><3/>", "<4/>"]);
  const [a, b, c] = sink.callbacks;
  a?.();
  b?.();
  await pumped();
  assert.equal(settled, false);
  c?.();
  await first.written;
  const rest = queue.pushMany(list, 5);
  assert.equal(rest.taken, 2);
  await pumped();
  sink.flushAll();
  await rest.written;
  assert.equal(sink.writes.join(""), list.join(""));
  assert.equal(queue.depth, 0);
  assert.equal(queue.bytes, 0);
});

test("pushMany: a failed write of any part of a group rejects the group", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", batchChars: 4 });
  const sink = new FakeSink(1_000_000);
  queue.attach(sink);
  const group = queue.pushMany(["<a/>", "<b/>", "<c/>"]);
  await pumped();
  assert.equal(sink.writes.length, 3);
  const [a, b, c] = sink.callbacks;
  a?.(new Error("socket gone"));
  b?.();
  c?.();
  await assert.rejects(group.written, /socket gone/);
});

test("pushMany: offline groups expire as a whole and free their bytes; a closed queue takes nothing", async () => {
  const queue = createOutgoingQueue({ domain: "c.test", offlineTimeoutMs: 10 });
  const group = queue.pushMany(["<a/>", "<bb/>"]);
  assert.equal(queue.bytes, 2 * 9);
  await assert.rejects(group.written, NotConnectedError);
  assert.equal(queue.depth, 0);
  assert.equal(queue.bytes, 0);
  queue.close();
  const closed = queue.pushMany(["<c/>"]);
  assert.equal(closed.taken, 0);
  await assert.rejects(closed.written, ComponentStoppedError);
});
