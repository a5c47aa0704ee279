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
