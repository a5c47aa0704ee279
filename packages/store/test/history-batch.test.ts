// HistoryBatcher against a recording sender: grouping, order, bounds, latency and failures.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HistoryBatcher, type HistoryGroup } from "../src/history-batch.js";

type Answer = ReadonlyArray<string | null> | Error;

function recording(answer: (groups: readonly HistoryGroup[]) => Answer = (g) => g.map(() => null)) {
  const calls: HistoryGroup[][] = [];
  const send = async (groups: readonly HistoryGroup[]) => {
    calls.push(groups.map((g) => ({ key: g.key, cap: g.cap, entries: [...g.entries] })));
    const a = answer(groups);
    if (a instanceof Error) throw a;
    return a;
  };
  return { calls, send };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe("HistoryBatcher", () => {
  test("appends of one turn go in one call, grouped per room, in call order", async () => {
    const r = recording();
    const b = new HistoryBatcher(r.send);
    const done = [
      b.append("a", "a1", 10),
      b.append("b", "b1", 10),
      b.append("a", "a2", 10),
      b.append("a", "a3", 10),
      b.append("b", "b2", 10),
    ];
    assert.equal(r.calls.length, 0, "nothing is sent before the end of the turn");
    await Promise.all(done);
    assert.deepEqual(r.calls, [
      [
        { key: "a", cap: 10, entries: ["a1", "a2", "a3"] },
        { key: "b", cap: 10, entries: ["b1", "b2"] },
      ],
    ]);
  });

  test("a cap change starts a new group of the room (the trim between stays where it was)", async () => {
    const r = recording();
    const b = new HistoryBatcher(r.send);
    await Promise.all([
      b.append("a", "1", 5),
      b.append("a", "2", 5),
      b.append("a", "3", 2),
      b.append("a", "4", 2),
      b.append("a", "5", 5),
    ]);
    assert.deepEqual(
      r.calls[0]?.map((g) => [g.cap, g.entries]),
      [
        [5, ["1", "2"]],
        [2, ["3", "4"]],
        [5, ["5"]],
      ],
    );
  });

  test("sent within one event-loop turn (no timer, no added latency)", async () => {
    const r = recording();
    const b = new HistoryBatcher(r.send);
    const p = b.append("a", "x", 1);
    await turn();
    assert.equal(r.calls.length, 1);
    await p;
  });

  test("bounded in entries: past the bound what waits is sent and a new batch begins", async () => {
    const r = recording();
    const b = new HistoryBatcher(r.send, { maxEntries: 4, maxBytes: 1 << 20 });
    const all = [];
    for (let i = 0; i < 10; i++) all.push(b.append(`k${i % 3}`, String(i), 100));
    // Two full batches already went out, synchronously, before the turn ended.
    assert.equal(r.calls.length, 2);
    await Promise.all(all);
    assert.deepEqual(
      r.calls.map((c) => c.reduce((n, g) => n + g.entries.length, 0)),
      [4, 4, 2],
    );
    // Order across batches: every room's entries in call order.
    const k0 = r.calls.flatMap((c) => c.filter((g) => g.key === "k0").flatMap((g) => g.entries));
    assert.deepEqual(k0, ["0", "3", "6", "9"]);
  });

  test("bounded in bytes (UTF-8); an entry over the bound goes alone", async () => {
    const r = recording();
    const b = new HistoryBatcher(r.send, { maxEntries: 100, maxBytes: 10 });
    await Promise.all([
      b.append("a", "éééé", 9), // 8 bytes
      b.append("a", "ééé", 9), // 6: 14 > 10, a new batch
      b.append("a", "x".repeat(50), 9), // over the bound alone
      b.append("a", "y", 9),
    ]);
    assert.deepEqual(
      r.calls.map((c) => c.flatMap((g) => g.entries)),
      [["éééé"], ["ééé"], ["x".repeat(50)], ["y"]],
    );
  });

  test("a failed call rejects every caller of its batch, and only them", async () => {
    let fail = true;
    const r = recording((groups) => (fail ? new Error("connection lost") : groups.map(() => null)));
    const b = new HistoryBatcher(r.send);
    const results = await Promise.allSettled([b.append("a", "1", 5), b.append("b", "2", 5)]);
    assert.deepEqual(
      results.map((x) => x.status),
      ["rejected", "rejected"],
    );
    // The next batch is a new call: it does not inherit the failure.
    fail = false;
    await b.append("a", "3", 5);
    assert.equal(r.calls.length, 2);
  });

  test("a group Redis refused fails its callers alone", async () => {
    const r = recording((groups) => groups.map((g) => (g.key === "bad" ? "WRONGTYPE" : null)));
    const b = new HistoryBatcher(r.send);
    const results = await Promise.allSettled([
      b.append("a", "1", 5),
      b.append("bad", "2", 5),
      b.append("bad", "3", 5),
      b.append("c", "4", 5),
    ]);
    assert.deepEqual(
      results.map((x) => x.status),
      ["fulfilled", "rejected", "rejected", "fulfilled"],
    );
  });
});
