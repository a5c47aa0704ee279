import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeEvent, encodeEvent } from "../src/events.js";
import type { StoreEvent } from "../src/index.js";

describe("notification encoding", () => {
  test("round-trips every event kind and rejects malformed ones", () => {
    const all: StoreEvent[] = [
      { kind: "user-clearance", jid: "a@b.c" },
      { kind: "user-clearance", jid: "a@b.c", policy: "1.2.3" },
      { kind: "service-clearance", domain: "rooms.b.c" },
      { kind: "peer-clearance", domain: "p.q", direction: "inbound" },
      { kind: "room", jid: "r@rooms.b.c" },
      { kind: "catalog", scope: { kind: "domain", domain: "b.c" } },
      { kind: "catalog", scope: { kind: "personal", jid: "a@b.c" } },
    ];
    for (const e of all) assert.deepEqual(decodeEvent(encodeEvent(e)), e);
    for (const bad of [
      "",
      "null",
      "{",
      '{"kind":"x"}',
      '{"kind":"room"}',
      '{"kind":"peer-clearance","domain":"p","direction":"up"}',
      '{"kind":"catalog","scope":{"kind":"room"}}',
    ]) {
      assert.equal(decodeEvent(bad), undefined, bad);
    }
  });
});
