// The guard's client-location rule in rooms (issue 17, review adv16b): a session whose location
// (components.guard.locations / otherLocations: a clearance per IP range) does not grant a label
// neither receives nor sends it — in a room as in a one-to-one message. The rule is the guard's
// (@cordon/rules client-location.ts, held as a SessionLocations, re-read at each policy reload);
// this file says which occupants it applies to and where each one is:
//
// - An occupant of a served domain (settings.localDomains): its session's address is asked of its
//   own server (the guard module's `<session xmlns='urn:cordon:guard:0' jid/>`, answered to
//   Cordon's trusted components only: @cordon/rules session-address.ts) once, when it joins (after
//   the disco#info the join already asks: presence.ts), and kept on the occupant for as long as it
//   stays (a new join asks again; nothing else asks). Bounded: the join waits under the pending
//   budget (per sender and in total), the question times out (2 s), the answer is one address
//   of at most 64 characters, and an occupant keeps only its location (a key and a clearance
//   shared by every occupant at that site). Fail closed: no address (an error, forbidden — the MUC is
//   not among the module's trusted components —, no such session, no answer within the timeout)
//   is the unknown location, which grants nothing labelled: since every room has a label, the
//   join is refused (presence.ts).
// - An occupant of another server (through the relay): not located. Locations are ranges of this
//   site's network, where clients connect to its own servers; a peer's user connects to the peer's
//   server, whose network no range describes, and no server of ours could tell its address. It is
//   bounded, as before, by the peer domain's inbound clearance (clearance-book.ts) — the guard
//   does the same with a one-to-one message to or from another domain.
//
// Applied wherever the occupant's clearance is: the join (the room label), each message delivered
// (delivery.ts: live, history, the archive, private messages), each message sent (message-gate.ts),
// a room relabelled or a policy reload (owner.ts takeOutUncovered), the room's catalog.
import { ANYWHERE, UNKNOWN_LOCATION, type ClientLocation } from "@cordon/rules";
import { parseJid } from "@cordon/component";
import type { Label } from "@cordon/policy";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "../service/context.js";

/**
 * Where the session `fullJid` (of `domain`) is: asked of its server when the rule applies and the
 * domain is served; ANYWHERE (the rule does not apply) for another server's user. Never throws.
 */
export function locateSession(
  ctx: Pick<MucContext, "locations" | "sessionAddress" | "settings">,
  fullJid: string,
  domain: string,
): Promise<ClientLocation> {
  if (!ctx.locations.active) return Promise.resolve(ANYWHERE);
  if (!ctx.settings.localDomains.includes(domain)) return Promise.resolve(ANYWHERE);
  return ctx.locations.locate(fullJid, ctx.sessionAddress);
}

/** Whether `occupant`'s location grants `label` (always without locations; never when unknown). */
export function locationGrants(
  ctx: Pick<MucContext, "locations" | "labels">,
  occupant: Pick<Occupant, "location">,
  label: Label,
): boolean {
  return ctx.locations.grants(ctx.labels.translations, label, occupant.location);
}

/**
 * Where a session that is not an occupant is taken to be, without asking (the room's catalog asked
 * by a non-occupant): unknown for a session of a served domain while the rule applies, else
 * ANYWHERE (another server's user, as `locateSession`).
 */
export function occupantless(
  ctx: Pick<MucContext, "locations" | "settings">,
  fullJid: string,
): ClientLocation {
  if (!ctx.locations.active) return ANYWHERE;
  const domain = parseJid(fullJid)?.domain;
  return domain !== undefined && !ctx.settings.localDomains.includes(domain) ? ANYWHERE : UNKNOWN_LOCATION;
}

/**
 * Whether `label` may go to `bareJid` (a user, not a session: a mediated invitation, XEP-0045
 * §7.8.2), which its server hands to whichever of its sessions it picks — and, since it comes from
 * a trusted component, without the guard judging it (adversarial review adv17b: a SECRET
 * invitation, its reason and the room's password reached the invitee's annex session). A user of a
 * served domain while the rule applies: only when every location grants the label
 * (SessionLocations.grantsEverywhere; never without `otherLocations`). Another server's user: not
 * located (as `locateSession`).
 */
export function reachesAnySession(
  ctx: Pick<MucContext, "locations" | "labels" | "settings">,
  bareJid: string,
  label: Label,
): boolean {
  if (!ctx.locations.active) return true;
  const domain = parseJid(bareJid)?.domain;
  if (domain !== undefined && !ctx.settings.localDomains.includes(domain)) return true;
  return ctx.locations.grantsEverywhere(ctx.labels.translations, label);
}
