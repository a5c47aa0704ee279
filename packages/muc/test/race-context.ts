// Test-only: a capturing MUC context whose user clearances come from a SlowDirectory (answers slow
// and reordered), with the real clearance reader and the real clearance watch subscribed to it.
import type { MemoryStore } from "@cordon/store";
import {
  encodeBerClearance,
  type Clearance,
  type Label,
  type Policy,
  type PolicyRegistry,
} from "@cordon/policy";
import { ClearanceReader } from "@cordon/rules";
import { ClearanceBook } from "../src/security/clearance-book.js";
import { ClearanceWatch } from "../src/service/clearance-watch.js";
import type { LabelAwareness } from "../src/service/label-awareness.js";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { SlowDirectory } from "./slow-directory.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

export const DOMAIN = "rooms.example.test";
export const U = label("UNCLASSIFIED");

export const raw = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});

export interface RaceContext {
  ctx: CapturingContext;
  dir: SlowDirectory;
  store: MemoryStore;
  watch: ClearanceWatch;
}

export function raceContext(
  on: { registry: PolicyRegistry; policy: Policy } = { registry, policy },
): RaceContext {
  const base = capturingContext(on.registry, on.policy, {
    domain: DOMAIN,
    defaultRoomLabel: U,
    defaultMessageLabel: U,
  });
  const store = base.store as MemoryStore;
  const dir = new SlowDirectory();
  const ctx: CapturingContext = {
    ...base,
    clearances: new ClearanceBook({
      reader: new ClearanceReader({ registry: on.registry, store, users: dir }),
      localDomains: ["example.test"],
    }),
    // The client's features are known at once: the races under test are the clearance reads'.
    awareness: { discover: () => Promise.resolve(true) } as unknown as LabelAwareness,
  };
  const watch = new ClearanceWatch(ctx, { users: dir, onRoom: () => undefined });
  watch.start();
  return { ctx, dir, store, watch };
}

/** A room labelled `roomLabel` whose messages may carry any label of `roomClearance` (default: all). */
export function roomWith(
  ctx: CapturingContext,
  name: string,
  roomLabel: Label,
  roomClearance: Clearance = clearance(ALL),
): Room {
  const room = new Room(
    `${name}@${DOMAIN}`,
    { ...DEFAULT_ROOM_CONFIG },
    { label: roomLabel, clearance: roomClearance, defaultLabel: undefined, raw: {} },
    ctx.budgets,
  );
  ctx.rooms.set(room.jid, room);
  return room;
}

/** An occupant already in `room` with a known clearance (as a completed join leaves it). */
export function seat(room: Room, user: string, c: Clearance): Occupant {
  const occupant: Occupant = {
    nick: user,
    jid: `${user}@example.test/r`,
    bare: `${user}@example.test`,
    role: "participant",
    affiliation: "none",
    occupantId: `oid-${user}`,
    clearance: { status: "known", clearance: c, fingerprint: `ber:${raw(c).data}` },
    labelAware: true,
    presenceXml: "",
    joinedAt: 0,
  };
  room.add(occupant);
  return occupant;
}
