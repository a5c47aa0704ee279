// Adversarial review of `components.muc.cluster` (issue 19). The admin API of a clustered process
// operates on a room "where its occupants are, else on the primary" (cli runners/muc-cluster-ops.ts).
// Asked on the instance that does not hold the room's slot, `destroy` destroyed that instance's
// idle copy and deleted the record; the instance holding the room got the store notification and
// kept the room live ("deleted elsewhere: keep the live state") — its occupants went on talking and
// the operator was told it was destroyed. Now a persistent room deleted elsewhere is destroyed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import { Room as RoomClass } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { syncRoom } from "../src/service/room-sync.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";
import { person } from "./room-fixture.js";
import type { Occupant } from "../src/room/occupant.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");

const member = (name: string): Occupant => person(name, clearance(ALL), false, { occupantId: `occ-${name}` });

function setup(persistent: boolean) {
  const ctx = capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: U });
  const room = new RoomClass(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, persistent },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  room.add(member("alice"));
  ctx.rooms.set(ROOM, room);
  return { ctx, room };
}

test("attack: a persistent room whose record another instance deleted (destroyed there) is destroyed here too", async () => {
  const { ctx, room } = setup(true);
  // The store holds no record: another instance's admin API destroyed its idle copy.
  await syncRoom(ctx, ROOM);
  assert.equal(ctx.rooms.has(ROOM), false, "the room is not served any more");
  assert.equal(room.destroyed, true);
  assert.equal(room.occupants.size, 0);
  const told = ctx.sent.map((s) => parseElement(s));
  assert.equal(told.length, 1);
  assert.equal(told[0]!.attrs.to, "alice@example.test/r");
  assert.equal(told[0]!.attrs.type, "unavailable");
  assert.ok(
    told[0]!.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("destroy"),
    "XEP-0045 §10.9 destroy",
  );
});

test("held: a room this service made temporary (its record deleted by its own change) stays", async () => {
  const { ctx, room } = setup(false);
  await syncRoom(ctx, ROOM);
  assert.equal(ctx.rooms.get(ROOM), room);
  assert.equal(room.occupants.size, 1);
  assert.equal(ctx.sent.length, 0);
});
