// The unit tests' common room (archive, flot-payload, leak-paths, message-references,
// service-clearance, stored-bounds; person() also in cluster-destroy-attack and unknown-clearance):
// occupants of example.test with a known clearance, and the room ROOM labelled UNCLASSIFIED,
// cleared for every class, in a capturing context.
import type { Clearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

export const ROOM = "ops@rooms.example.test";

/** `name`@example.test/r, a participant whose clearance `c` is known; `more` overrides (role, …). */
export const person = (name: string, c: Clearance, aware = true, more: Partial<Occupant> = {}): Occupant => ({
  nick: name,
  jid: `${name}@example.test/r`,
  bare: `${name}@example.test`,
  role: "participant",
  affiliation: "none",
  occupantId: `oid-${name}`,
  clearance: { status: "known", clearance: c, fingerprint: name },
  labelAware: aware,
  presenceXml: "",
  joinedAt: 0,
  ...more,
});

/** A capturing context whose rooms and messages are UNCLASSIFIED by default. */
export const unclassifiedContext = (): CapturingContext => {
  const U = label("UNCLASSIFIED");
  return capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: U });
};

/** ROOM in `ctx` (UNCLASSIFIED, cleared for ALL, the default config with `config`) holding `people`. */
export function roomWith(
  ctx: CapturingContext,
  people: readonly Occupant[],
  config: Partial<RoomConfig> = {},
): Room {
  const U = label("UNCLASSIFIED");
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, ...config },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  for (const o of people) room.add(o);
  ctx.rooms.set(ROOM, room);
  return room;
}
