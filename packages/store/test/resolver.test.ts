import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ClearanceResolver,
  MemoryStore,
  type ClearanceLookup,
  type StoreEvent,
  type StoreListener,
  type UserClearanceSource,
} from "../src/index.js";
import { BER_ALL_OKAY, eventually, XML_CLEARANCE } from "./helpers.js";

// A directory stand-in (pure logic): answers from a table and can emit events.
function fakeDirectory(
  answers: Record<string, ClearanceLookup>,
): UserClearanceSource & { emit(e: StoreEvent): void } {
  const listeners = new Set<StoreListener>();
  return {
    async getUserClearance(jid) {
      return answers[jid] ?? { status: "none" };
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit(e) {
      for (const l of listeners) l(e);
    },
  };
}

describe("ClearanceResolver precedence: store, then directory", () => {
  test("store known wins; store none falls to the directory; no directory means none", async () => {
    const store = new MemoryStore();
    const dir = fakeDirectory({
      "alice@example.mil": { status: "known", clearance: XML_CLEARANCE, source: "directory" },
      "bob@example.mil": { status: "unknown", reason: "ldap down" },
    });
    const r = new ClearanceResolver({ store, directory: dir });
    assert.deepEqual(await r.getUserClearance("alice@example.mil"), {
      status: "known",
      clearance: XML_CLEARANCE,
      source: "directory",
    });
    await store.setUserClearance("alice@example.mil", BER_ALL_OKAY);
    assert.deepEqual(await r.getUserClearance("alice@example.mil"), {
      status: "known",
      clearance: BER_ALL_OKAY,
      source: "store",
    });
    assert.equal((await r.getUserClearance("bob@example.mil")).status, "unknown");
    assert.equal((await r.getUserClearance("carol@example.mil")).status, "none");
    assert.equal((await new ClearanceResolver({ store }).getUserClearance("bob@example.mil")).status, "none");
  });

  test("store unknown is unknown, even when the directory knows (fail closed)", async () => {
    const store: UserClearanceSource = {
      getUserClearance: async () => ({ status: "unknown", reason: "redis down" }),
      subscribe: () => () => undefined,
    };
    const dir = fakeDirectory({
      "alice@example.mil": { status: "known", clearance: XML_CLEARANCE, source: "directory" },
    });
    assert.deepEqual(
      await new ClearanceResolver({ store, directory: dir }).getUserClearance("alice@example.mil"),
      { status: "unknown", reason: "redis down" },
    );
  });

  test("notifications from both sources reach one listener until unsubscribed", async () => {
    const store = new MemoryStore();
    const dir = fakeDirectory({});
    const r = new ClearanceResolver({ store, directory: dir });
    const events: StoreEvent[] = [];
    const un = r.subscribe((e) => events.push(e));
    await store.setUserClearance("a@example.mil", BER_ALL_OKAY);
    dir.emit({ kind: "user-clearance", jid: "b@example.mil" });
    await eventually(() => events.length === 2, "two events");
    un();
    dir.emit({ kind: "user-clearance", jid: "c@example.mil" });
    await store.setUserClearance("d@example.mil", BER_ALL_OKAY);
    await new Promise((res) => setImmediate(res));
    assert.equal(events.length, 2);
  });
});
