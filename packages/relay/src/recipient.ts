// The recipient's clearance (XEP-0258 §"Use in XMPP": a server delivers a labelled stanza only to
// an entity whose clearance grants the label). The direction clearance bounds what may cross at
// all; this bounds what reaches the one addressee.
//
// Inbound (the recipient is local, fail closed): a user is judged on their user clearance (the one
// ClearanceReader of @cordon/rules: the store's override, then the directory), none being the nil
// clearance; the server's own domain and other domain JIDs on their domain's service clearance; a
// room of the side's `mucDomains` on what the store records of it (its room clearance and its
// service's clearance) — a room the relay cannot see (not stored, or no store able to say) is
// refused, since nothing says what its occupants may read.
//
// Outbound (the recipient is remote): a user the store or the directory knows — in the receiving
// side's policy or the sending side's — is judged on that clearance; one neither knows is bounded by the direction clearance alone (Isode's description of
// label enforcement: the check "can be made for remote recipients if this data is shared by common
// directory access"). A lookup that fails refuses (fail closed).
import { bareJid, parseJid } from "@cordon/component";
import type { Clearance } from "@cordon/policy";
import type { ClearanceState } from "@cordon/rules";
import { MISS, type ClearanceLookups, type Miss } from "./clearance-lookups.js";
import type { Direction, Route } from "./direction.js";

export type RecipientClearances =
  /** Every clearance that must grant the label (none: nothing more to check). */
  | { status: "known"; clearances: Clearance[] }
  /** The nil clearance: grants nothing. */
  | { status: "none" }
  /** Cannot decide: refuse. */
  | { status: "unknown"; reason: string };

/**
 * The clearances guarding the recipient of `route` on `direction`; never throws. MISS: a lookup
 * is not cached (clearance-lookups.ts: the decision awaits it and asks again).
 */
export function recipientClearances(
  route: Route,
  direction: Direction,
  receivingPolicy: string,
  clearances: ClearanceLookups,
  sendingPolicy: string = receivingPolicy,
): RecipientClearances | Miss {
  const to = parseJid(route.to);
  if (!to) return { status: "unknown", reason: "unparsable recipient" };
  const domain = to.domain;
  const bare = bareJid(to);
  const isRoom = to.local !== "" && direction.to.mucDomains.includes(domain);
  if (direction.name === "outbound") {
    // A remote room or domain: the direction clearance (the peer's) is all the relay knows.
    if (!to.local || isRoom) return { status: "known", clearances: [] };
    // A shared store or directory may hold the remote user's clearance in either side's policy
    // (equivalent policies: the label is read through the translation). Found in review
    // (advrelay): only the receiving side's was asked, and a user held under the sending side's
    // was "not known" — bounded by the direction clearance alone. Every one held must grant.
    const held: Clearance[] = [];
    for (const policy of receivingPolicy === sendingPolicy
      ? [receivingPolicy]
      : [receivingPolicy, sendingPolicy]) {
      const user = clearances.user(bare, policy);
      if (user === MISS) return MISS;
      if (user.status === "unknown") return { status: "unknown", reason: user.reason };
      if (user.status === "known") held.push(user.clearance);
    }
    return { status: "known", clearances: held };
  }
  if (!to.local) return fromState(clearances.service(domain));
  if (isRoom) return roomClearances(bare, domain, clearances);
  return fromState(clearances.user(bare, receivingPolicy));
}

function roomClearances(
  room: string,
  domain: string,
  clearances: ClearanceLookups,
): RecipientClearances | Miss {
  const record = clearances.room(room);
  if (record === MISS) return MISS;
  if (record.status !== "known") return record;
  const service = clearances.service(domain);
  if (service === MISS) return MISS;
  if (service.status === "unknown") return service;
  const all = [...record.clearances, ...(service.status === "known" ? [service.clearance] : [])];
  // Neither the room nor its service bounds what its occupants may read: the relay cannot know.
  if (all.length === 0) return { status: "unknown", reason: "the room has no clearance the relay can read" };
  return { status: "known", clearances: all };
}

function fromState(state: ClearanceState | Miss): RecipientClearances | Miss {
  if (state === MISS) return MISS;
  if (state.status === "known") return { status: "known", clearances: [state.clearance] };
  return state.status === "none" ? { status: "none" } : { status: "unknown", reason: state.reason };
}
