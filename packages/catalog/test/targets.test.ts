import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveTarget } from "../src/targets.js";

const context = { served: ["example.test"], muc: ["rooms.example.test"], component: "catalog.example.test" };

test("rooms, users, our services and remote entities", () => {
  assert.deepEqual(resolveTarget("Room@Rooms.Example.Test/nick", context), {
    kind: "room",
    jid: "room@rooms.example.test",
    service: "rooms.example.test",
  });
  assert.deepEqual(resolveTarget("rooms.example.test", context), {
    kind: "server",
    jid: "rooms.example.test",
    domain: "rooms.example.test",
  });
  assert.deepEqual(resolveTarget("bob@example.test/phone", context), {
    kind: "user",
    jid: "bob@example.test",
    domain: "example.test",
  });
  assert.deepEqual(resolveTarget("example.test", context), {
    kind: "server",
    jid: "example.test",
    domain: "example.test",
  });
  assert.deepEqual(resolveTarget("catalog.example.test", context), {
    kind: "server",
    jid: "catalog.example.test",
    domain: "catalog.example.test",
  });
  assert.deepEqual(resolveTarget("carol@peer.test", context), {
    kind: "remote",
    jid: "carol@peer.test",
    domain: "peer.test",
  });
  assert.deepEqual(resolveTarget("peer.test", context), {
    kind: "remote",
    jid: "peer.test",
    domain: "peer.test",
  });
  assert.equal(resolveTarget("@bad", context), undefined);
  assert.equal(resolveTarget("", context), undefined);
});
