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
