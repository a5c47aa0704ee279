// Owner and admin powers follow the clearance, not only the affiliation (XEP-0258 §"Use in Group
// Chat": who may be in a room is decided by the room label). An affiliation is a standing grant: an
// owner or admin whose clearance was lowered keeps it, but it is inert — every muc#owner and
// muc#admin request (XEP-0045 §9, §10: the configuration form with the room's password, a new room
// label, affiliation lists, role and affiliation changes, destroy) needs a clearance, read now, that
// grants the room label; an unknown clearance (store down) is refused with `wait` (fail closed).
// Granting owner, admin or member to a JID is refused unless that JID's clearance grants the room
// label now (`not-acceptable`); outcast and none may always be given. An affiliation that a later
// label change or clearance change leaves uncovered stays recorded but gives nothing: joining and
// every owner/admin request check the clearance again.
import type { Clearance } from "@cordon/policy";
import { stanzaError, toBare } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { Affiliation } from "../room/occupant.js";
import type { MucContext } from "../service/context.js";

/**
 * Throws a stanza error unless `from` may use owner or admin powers in `room` now: its clearance is
 * known and grants the room label. Returns that clearance.
 */
export async function requireClearedActor(
  ctx: Pick<MucContext, "clearances" | "labels">,
  room: Room,
  from: string,
): Promise<Clearance> {
  const state = await ctx.clearances.lookup(toBare(from) ?? "");
  if (state.status === "unknown")
    throw stanzaError("internal-server-error", "wait", "your clearance cannot be determined right now");
  if (state.status !== "known" || !ctx.labels.grants(room.security.label, state.clearance))
    throw stanzaError("forbidden", "auth", "your clearance does not cover this room's label");
  return state.clearance;
}

/** Affiliations that give something in the room (entry to members-only rooms, powers). */
export function grantsAccess(affiliation: Affiliation): boolean {
  return affiliation === "owner" || affiliation === "admin" || affiliation === "member";
}

/**
 * Throws a stanza error unless `affiliation` may be given to `bare` in `room`: owner, admin and
 * member only to a JID whose clearance, read now, grants the room label. The error names no JID.
 */
export async function requireClearedGrantee(
  ctx: Pick<MucContext, "clearances" | "labels">,
  room: Room,
  bare: string,
  affiliation: Affiliation,
): Promise<void> {
  if (!grantsAccess(affiliation)) return;
  const state = await ctx.clearances.lookup(bare);
  if (state.status === "unknown")
    throw stanzaError(
      "internal-server-error",
      "wait",
      "a clearance this change depends on cannot be determined right now",
    );
  if (state.status !== "known" || !ctx.labels.grants(room.security.label, state.clearance))
    throw stanzaError(
      "not-acceptable",
      "cancel",
      "the affiliation can only be given to someone cleared for this room's label",
    );
}
