// The owner's "none" for a room's default label (muc#roomconfig `sec-label#default-label`, "None
// (refuse unlabelled messages)"): unlabelled messages are refused in that room even when the
// service has a default label, and the choice survives the store (a restart, another instance).
// Before the adversarial review (issue 15) "none" fell back to the service's default label.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml } from "@cordon/component";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { checkMessage } from "../src/service/message-gate.js";
import { roomFromRecord, roomToRecord } from "../src/service/persistence.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const U = label("UNCLASSIFIED");
const BOUND = { status: "known", clearances: [] } as const;

test('a room whose owner chose "none" refuses unlabelled messages, before and after the store', () => {
  const ctx = capturingContext(registry, policy, {
    domain: "rooms.example.test",
    defaultRoomLabel: U,
    defaultMessageLabel: U,
    defaultRoomClearance: clearance(ALL),
  });
  const room = new Room(
    "strict@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG, persistent: true },
    { label: U, clearance: clearance(ALL), defaultLabel: null, raw: {} },
  );
  const sender: Occupant = {
    nick: "a",
    jid: "a@example.test/r",
    bare: "a@example.test",
    role: "participant",
    affiliation: "none",
    occupantId: "x",
    clearance: { status: "known", clearance: clearance(ALL), fingerprint: "f" },
    labelAware: true,
    presenceXml: "",
    joinedAt: 0,
  };
  const unlabelled = xml("message", { type: "groupchat", to: room.jid }, xml("body", {}, "hi"));
  assert.equal(checkMessage(ctx, room, sender, unlabelled, BOUND).ok, false);
  const reloaded = roomFromRecord(ctx, roomToRecord(room)).room;
  assert.equal(reloaded.security.defaultLabel, null);
  assert.equal(checkMessage(ctx, reloaded, sender, unlabelled, BOUND).ok, false);
  // A room that never chose one still takes the service's default.
  const inherits = roomFromRecord(
    ctx,
    roomToRecord({ ...room, security: { ...room.security, defaultLabel: undefined } } as Room),
  ).room;
  assert.equal(inherits.security.defaultLabel, undefined);
  assert.equal(checkMessage(ctx, inherits, sender, unlabelled, BOUND).ok, true);
});
