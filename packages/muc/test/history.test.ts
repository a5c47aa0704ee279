import { test } from "node:test";
import assert from "node:assert/strict";
import { selectHistory, readHistoryRequest, type HistoryEntry } from "../src/room/history.js";
import { label } from "./fixtures.js";

const U = label("UNCLASSIFIED");
const S = label("SECRET");
const entries: HistoryEntry[] = Array.from({ length: 10 }, (_, i) => ({
  sid: `s${i}`,
  id: `m${i}`,
  ts: 1_000_000 + i * 1000,
  nick: "a",
  occupantId: "o",
  from: "a@x/r",
  label: i % 2 === 0 ? "U" : "S",
  body: `b${i}`,
  extra: "",
}));
const readableByU = (e: HistoryEntry) => (e.label === "U" ? U : undefined);
const readableByAll = (e: HistoryEntry) => (e.label === "U" ? U : S);

test("only entries the joiner may read are replayed, oldest first", () => {
  const picked = selectHistory(entries, {}, readableByU, 2_000_000, () => 10);
  assert.deepEqual(
    picked.map((p) => p.entry.sid),
    ["s0", "s2", "s4", "s6", "s8"],
  );
});

test("maxstanzas counts the readable entries, the newest ones win", () => {
  assert.deepEqual(
    selectHistory(entries, { maxStanzas: 2 }, readableByU, 2_000_000, () => 10).map((p) => p.entry.sid),
    ["s6", "s8"],
  );
  assert.deepEqual(
    selectHistory(entries, { maxStanzas: 0 }, readableByAll, 2_000_000, () => 10),
    [],
  );
});

test("maxchars, seconds and since limit the replay", () => {
  assert.deepEqual(
    selectHistory(entries, { maxChars: 25 }, readableByAll, 2_000_000, () => 10).map((p) => p.entry.sid),
    ["s8", "s9"],
  );
  assert.deepEqual(
    selectHistory(entries, { seconds: 2 }, readableByAll, 1_010_000, () => 10).map((p) => p.entry.sid),
    ["s8", "s9"],
  );
  assert.deepEqual(
    selectHistory(entries, { since: 1_007_000 }, readableByAll, 2_000_000, () => 10).map((p) => p.entry.sid),
    ["s8", "s9"],
  );
});

test("the <history/> attributes are read leniently", () => {
  assert.deepEqual(
    readHistoryRequest({ maxstanzas: "5", maxchars: "x", seconds: "-1", since: "1970-01-01T00:00:10Z" }),
    { maxStanzas: 5, since: 10_000 },
  );
  assert.deepEqual(readHistoryRequest({}), {});
});
