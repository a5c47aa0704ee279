import { test } from "node:test";
import assert from "node:assert/strict";
import { OccupantBudget } from "../src/room/occupant-budget.js";

test("presence payloads: per occupant and in total; rooms per user at once", () => {
  const budget = new OccupantBudget({ occupantBytes: 100, totalBytes: 150, roomsPerUser: 2 });
  assert.equal(budget.checkPresence("x".repeat(51)), "too-large");
  assert.equal(budget.checkPresence("x".repeat(50)), undefined);
  budget.added("a@x", "x".repeat(50));
  assert.equal(budget.checkPresence("y".repeat(30)), "full");
  assert.equal(budget.checkPresence("y".repeat(25)), undefined);
  // A change is judged on the difference.
  assert.equal(budget.checkPresence("x".repeat(50), "x".repeat(50)), undefined);
  assert.equal(budget.mayEnter("a@x"), true);
  budget.added("a@x", "");
  assert.equal(budget.mayEnter("a@x"), false);
  assert.equal(budget.mayEnter("b@x"), true);
  budget.changed("x".repeat(50), "");
  budget.removed("a@x", "");
  budget.removed("a@x", "");
  assert.equal(budget.bytes, 0);
  assert.equal(budget.occupants, 0);
  assert.equal(budget.mayEnter("a@x"), true);
});

test("identical payloads share one copy while held; the limits still count every occupant's", () => {
  const budget = new OccupantBudget({ occupantBytes: 1000, totalBytes: 1000, roomsPerUser: 10 });
  const caps = '<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="v"/>';
  // Built apart, as two parsed stanzas would make them: equal strings, not the same copy.
  const first = budget.added("a@x", ["<c", caps.slice(2)].join(""));
  const second = budget.added("b@x", caps.slice(0, 10) + caps.slice(10));
  assert.equal(first, caps);
  assert.equal(second, caps);
  assert.equal(budget.distinctPayloads, 1);
  assert.equal(budget.bytes, 4 * caps.length, "each occupant is counted for its payload");
  assert.equal(budget.checkPresence("z".repeat(1000 / 2 - 2 * caps.length + 1)), "full");
  // A change moves one holder to another copy; the last holder gone, the copy is forgotten.
  const changed = budget.changed(first, "<show>away</show>");
  assert.equal(changed, "<show>away</show>");
  assert.equal(budget.distinctPayloads, 2);
  budget.removed("b@x", second);
  assert.equal(budget.distinctPayloads, 1);
  budget.removed("a@x", changed);
  assert.equal(budget.distinctPayloads, 0);
  assert.equal(budget.bytes, 0);
  assert.equal(budget.occupants, 0);
  // Empty payloads are not kept at all.
  assert.equal(budget.added("c@x", ""), "");
  assert.equal(budget.distinctPayloads, 0);
});
