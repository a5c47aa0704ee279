import { test } from "node:test";
import assert from "node:assert/strict";
import { itemsWithin, registerDisco } from "../src/disco.js";
import { createIqRouter } from "../src/iq-router.js";
import { xml } from "../src/xml.js";

// Issue 14: room names are user-chosen and rooms many; the items answer stays within its budget.
test("a disco#items answer holds the items that fit its byte budget, in order", async () => {
  const items = Array.from({ length: 100 }, (_, i) => ({
    jid: `room${i}@rooms.example.test`,
    name: ">".repeat(50),
  }));
  assert.equal(itemsWithin(items, Infinity).length, 100);
  const fitting = itemsWithin(items, 5000);
  assert.ok(fitting.length > 0 && fitting.length < 100);
  assert.deepEqual(fitting, items.slice(0, fitting.length));
  const router = createIqRouter();
  registerDisco(router, { info: () => undefined, items: () => items }, 5000);
  const outcome = await router.route(
    xml(
      "iq",
      { type: "get", id: "1", from: "u@d/r", to: "rooms.example.test" },
      xml("query", { xmlns: "http://jabber.org/protocol/disco#items" }),
    ),
  );
  assert.equal(outcome.kind, "result");
  const payload = outcome.kind === "result" ? outcome.payload : undefined;
  assert.equal(payload?.getChildren("item").length, fitting.length);
  assert.ok(Buffer.byteLength(payload?.toString() ?? "") <= 5100);
});
