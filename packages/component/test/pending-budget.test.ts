import { test } from "node:test";
import assert from "node:assert/strict";
import { PendingBudget } from "../src/pending-budget.js";

test("per-sender and total limits in count and bytes; release gives the room back once", () => {
  const budget = new PendingBudget({ total: 4, totalBytes: 1000, perSender: 2, perSenderBytes: 500 });
  const a1 = budget.acquire("a", 100);
  const a2 = budget.acquire("a", 100);
  assert.ok(a1 && a2);
  assert.equal(budget.acquire("a", 1), undefined, "a's count is used up");
  assert.equal(budget.acquire("b", 501), undefined, "over b's bytes");
  const b1 = budget.acquire("b", 400);
  assert.ok(b1);
  assert.equal(budget.acquire("c", 401), undefined, "over the total bytes");
  const c1 = budget.acquire("c", 1);
  assert.ok(c1);
  assert.equal(budget.acquire("d", 1), undefined, "over the total count");
  assert.equal(budget.refused, 4);
  assert.equal(budget.count, 4);
  assert.equal(budget.bytes, 601);
  a1();
  a1();
  assert.equal(budget.count, 3);
  assert.ok(budget.acquire("a", 100));
  for (const r of [a2, b1, c1]) r();
  assert.equal(budget.bytes, 100);
});
