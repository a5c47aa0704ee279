import { test } from "node:test";
import assert from "node:assert/strict";
import { HistoryBudget, historyEntryBytes, type HistoryHolder } from "../src/room/history-budget.js";
import type { HistoryEntry } from "../src/room/history.js";

const entry = (sid: string, body: string): HistoryEntry => ({
  sid,
  id: sid,
  ts: 0,
  nick: "n",
  occupantId: "o",
  from: "a@b/c",
  label: "<securitylabel/>",
  body,
  extra: "",
});
const holder = (historyLength: number): HistoryHolder => ({
  history: [],
  historyBytes: 0,
  config: { historyLength },
});

test("a room keeps at most historyLength entries and roomBytes bytes (oldest dropped first)", () => {
  const size = historyEntryBytes(entry("0", "x".repeat(1000)));
  const budget = new HistoryBudget({ roomBytes: 3 * size, totalBytes: 100 * size });
  const room = holder(10_000);
  for (let i = 0; i < 10; i++) budget.push(room, entry(String(i), "x".repeat(1000)));
  assert.deepEqual(
    room.history.map((e) => e.sid),
    ["7", "8", "9"],
  );
  assert.equal(room.historyBytes, 3 * size);
  assert.equal(budget.bytes, 3 * size);
  const counted = holder(2);
  for (let i = 0; i < 5; i++) budget.push(counted, entry(String(i), "y"));
  assert.equal(counted.history.length, 2);
});

test("10,000 entries of 256 KiB bodies cannot pin more than the total; the oldest of any room goes first", () => {
  const budget = new HistoryBudget({ roomBytes: 4 * 1024 * 1024, totalBytes: 8 * 1024 * 1024 });
  const rooms = [holder(10_000), holder(10_000), holder(10_000)];
  const body = "z".repeat(128 * 1024); // 256 KiB in memory
  for (let i = 0; i < 300; i++) budget.push(rooms[i % 3]!, entry(String(i), body));
  assert.ok(budget.bytes <= 8 * 1024 * 1024, `${budget.bytes}`);
  for (const r of rooms) assert.ok(r.historyBytes <= 4 * 1024 * 1024);
  assert.equal(
    rooms.reduce((n, r) => n + r.historyBytes, 0),
    budget.bytes,
  );
  assert.ok(budget.evicted > 0);
  // The newest are kept.
  assert.equal(rooms[2]!.history.at(-1)?.sid, "299");
});

test("an entry larger than a room may hold is not kept; release gives a closed room's bytes back", () => {
  const budget = new HistoryBudget({ roomBytes: 1000, totalBytes: 10_000 });
  const room = holder(50);
  assert.equal(budget.push(room, entry("big", "x".repeat(1000))), false);
  assert.equal(budget.refused, 1);
  assert.equal(budget.push(room, entry("small", "x")), true);
  budget.release(room);
  assert.equal(budget.bytes, 0);
  assert.deepEqual(room.history, []);
});

// Issue 15 item 7: the limits are per label — traffic of one label never pushes another's out.
const labelled = (sid: string, label: string, body = "x"): HistoryEntry => ({ ...entry(sid, body), label });

test("each label keeps its own historyLength: SECRET traffic does not push UNCLASSIFIED entries out", () => {
  const budget = new HistoryBudget({ roomBytes: 1_000_000, totalBytes: 10_000_000 });
  const room = holder(5);
  for (let i = 0; i < 5; i++) budget.push(room, labelled(`u${i}`, "U"));
  for (let i = 0; i < 50; i++) budget.push(room, labelled(`s${i}`, "S"));
  assert.deepEqual(
    room.history.filter((e) => e.label === "U").map((e) => e.sid),
    ["u0", "u1", "u2", "u3", "u4"],
  );
  assert.deepEqual(
    room.history.filter((e) => e.label === "S").map((e) => e.sid),
    ["s45", "s46", "s47", "s48", "s49"],
  );
  assert.equal(budget.labels(room), 2);
});

test("each label keeps its own roomBytes: large SECRET entries do not push UNCLASSIFIED entries out", () => {
  const size = historyEntryBytes(labelled("s00", "S", "x".repeat(1000)));
  const budget = new HistoryBudget({ roomBytes: 3 * size, totalBytes: 100 * size });
  const room = holder(10_000);
  budget.push(room, labelled("u0", "U"));
  for (let i = 0; i < 20; i++) budget.push(room, labelled(`s${i}`, "S", "x".repeat(1000)));
  assert.deepEqual(
    room.history.map((e) => e.sid),
    ["u0", "s17", "s18", "s19"],
  );
  assert.equal(
    room.historyBytes,
    room.history.reduce((n, e) => n + historyEntryBytes(e), 0),
  );
  assert.equal(budget.bytes, room.historyBytes);
});

test("past the total, the same label's oldest entry (any room) goes before another label's", () => {
  const size = historyEntryBytes(labelled("s0", "S"));
  const budget = new HistoryBudget({ roomBytes: 100 * size, totalBytes: 4 * size });
  const a = holder(100);
  const b = holder(100);
  budget.push(a, labelled("u0", "U"));
  budget.push(a, labelled("u1", "U"));
  budget.push(b, labelled("s0", "S"));
  budget.push(b, labelled("s1", "S"));
  budget.push(a, labelled("s2", "S"));
  assert.deepEqual([...a.history, ...b.history].map((e) => e.sid).sort(), ["s1", "s2", "u0", "u1"]);
  assert.ok(budget.bytes <= 4 * size);
});
