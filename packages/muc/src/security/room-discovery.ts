// Who may discover a room (XEP-0045 §6.3 disco#items, §6.4 disco#info): its name, description,
// subject, occupant count and marking are metadata of a room that only people cleared for its label
// may enter, so only they see it. A requester whose clearance does not grant the room label — or
// cannot be determined now (store down: fail closed) — gets the service's list without the room and
// item-not-found for the room itself, as if it did not exist (XEP-0030 §3.1, §7). The room's label
// catalog (XEP-0258 §5) answers the same way (`discoverable`).
//
// Nor does a session whose location does not grant the room label (the guard's client-location
// rule, occupant-location.ts; adversarial review adv17b: the annex session listed and described
// SECRET rooms): an occupant's location as learnt at its join, any other session of a served
// domain asked of its server — one question per discovery request, held within the pending budget
// (over it, or no address learnt: the unknown location, where no labelled room is discoverable).
import {
  parseJid,
  stanzaError,
  toBare,
  type DiscoInfoResolver,
  type DiscoItemsResolver,
} from "@cordon/component";
import { ANYWHERE, UNKNOWN_LOCATION, type ClearanceState, type ClientLocation } from "@cordon/rules";
import type { Room } from "../room/room.js";
import type { MucContext } from "../service/context.js";
import { locateSession, locationGrants } from "./occupant-location.js";

type DiscoveryContext = Pick<
  MucContext,
  "clearances" | "rooms" | "labels" | "locations" | "sessionAddress" | "settings" | "pending"
>;

/** Where the requesting session is (see above); ANYWHERE while no location rule applies. */
async function requesterLocation(ctx: DiscoveryContext, from: string, room?: Room): Promise<ClientLocation> {
  if (!ctx.locations.active) return ANYWHERE;
  const occupant = room?.byJid.get(from);
  if (occupant) return occupant.location ?? UNKNOWN_LOCATION;
  const domain = parseJid(from)?.domain;
  if (domain === undefined) return UNKNOWN_LOCATION;
  const release = ctx.pending.acquire(toBare(from) ?? from, from.length);
  if (!release) return UNKNOWN_LOCATION;
  try {
    return await locateSession(ctx, from, domain);
  } finally {
    release();
  }
}

/** Whether a session at `location` may learn of `room` (its label granted there). */
function locatedFor(ctx: DiscoveryContext, room: Room, location: ClientLocation): boolean {
  const label = room.security.label;
  return !ctx.locations.active || (label !== undefined && locationGrants(ctx, { location }, label));
}

/** The requester's clearance now (one read per request, cached by the clearance reader). */
export function requesterClearance(
  ctx: Pick<MucContext, "clearances">,
  from: string,
): Promise<ClearanceState> {
  return ctx.clearances.lookup(toBare(from) ?? "");
}

/** Whether a requester with `clearance` may learn that `room` exists and what it is about. */
export function mayDiscover(ctx: Pick<MucContext, "labels">, room: Room, clearance: ClearanceState): boolean {
  if (clearance.status !== "known") return false;
  // In the clearance's own policy when it is an equivalent one (@cordon/rules translation).
  return ctx.labels.grants(room.security.label, clearance.clearance);
}

/**
 * The room, when a requester with `clearance` may learn of it; else item-not-found, as for a room
 * that does not exist. For what a room answers beside disco: its label catalog (XEP-0258 §5) names
 * the room and its default label, so it follows the same rule (adversarial review, issue 15).
 */
export function discoverable(ctx: Pick<MucContext, "labels">, room: Room, clearance: ClearanceState): Room {
  if (room.destroyed || !mayDiscover(ctx, room, clearance)) throw stanzaError("item-not-found", "cancel");
  return room;
}

/** The MUC's disco resolvers with every room the requester may not discover left out (see above). */
export function discoverableOnly(
  ctx: DiscoveryContext,
  resolvers: { info: DiscoInfoResolver; items: DiscoItemsResolver },
): { info: DiscoInfoResolver; items: DiscoItemsResolver } {
  return {
    info: async (q) => {
      const room = q.to.includes("@") ? ctx.rooms.get(q.to) : undefined;
      if (room && !mayDiscover(ctx, room, await requesterClearance(ctx, q.from))) return undefined;
      if (room && !locatedFor(ctx, room, await requesterLocation(ctx, q.from, room))) return undefined;
      return resolvers.info(q);
    },
    items: async (q) => {
      const items = await resolvers.items(q);
      if (!items) return undefined;
      const room = q.to.includes("@") ? ctx.rooms.get(q.to) : undefined;
      if (!room && items.length === 0) return items;
      const clearance = await requesterClearance(ctx, q.from);
      const location = await requesterLocation(ctx, q.from, room);
      if (room)
        return mayDiscover(ctx, room, clearance) && locatedFor(ctx, room, location) ? items : undefined;
      return items.filter((item) => {
        const listed = ctx.rooms.get(item.jid);
        return (
          listed !== undefined && mayDiscover(ctx, listed, clearance) && locatedFor(ctx, listed, location)
        );
      });
    },
  };
}
