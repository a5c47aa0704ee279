import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, StoreClosedError } from "../src/index.js";
import { behaviourSuite } from "./behaviour-suite.js";
import { BER_ALL_OKAY } from "./helpers.js";

// The in-memory store is one process's state: a "second client" is the same object.
behaviourSuite({
  name: "in-memory",
  async create() {
    const store = new MemoryStore();
    return { store, peer: async () => store };
  },
});

describe("MemoryStore specifics", () => {
  test("closed store throws a typed error", async () => {
    const s = new MemoryStore();
    await s.close();
    await assert.rejects(s.getUserClearance("a@example.mil"), StoreClosedError);
    await assert.rejects(
      s.setUserClearance("a@example.mil", BER_ALL_OKAY),
      (e: unknown) => e instanceof StoreClosedError && e.code === "CORDON_STORE_CLOSED",
    );
  });

  test("history cap default applies", async () => {
    const s = new MemoryStore({ historyCap: 3 });
    await s.putRoom({ jid: "r@rooms.example.mil", config: {}, affiliations: {}, persistent: true });
    for (let i = 0; i < 5; i++) await s.appendRoomHistory("r@rooms.example.mil", String(i));
    assert.deepEqual(await s.getRoomHistory("r@rooms.example.mil"), ["2", "3", "4"]);
  });
});
