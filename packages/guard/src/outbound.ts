// A message a session of a served domain sends to ANOTHER domain (issue 17, review adv16b: the
// client-location rule did not reach it). The module asks on the way out, before the server
// routes it over s2s or to a component — <check origin='c2s' outbound='peer|component'> — and
// decide.ts judges it as a one-to-one message whose recipient is the destination:
//   - its label resolved (unlabelled: the default label; malformed, hidden, unknown: refused);
//   - granted by the sender's clearance, the server's clearance and the sending session's
//     location (@cordon/rules one-to-one.ts, client-location.ts), as for a local recipient;
//   - `outbound='peer'` (a remote server, or any component that is not Cordon's own): granted by
//     the destination domain's OUTBOUND peer clearance (the store's, the one Cordon's relay reads
//     for that direction; the inbound side reads the sender domain's inbound one). A domain with
//     no peer clearance grants nothing — labelled or unlabelled (the default label is a label):
//     refused `forbidden`, as a message FROM such a domain is refused on delivery; one that cannot
//     be read now (store down): `wait`. Delivered with the policy's label and marking;
//   - `outbound='component'` (one of the module's trusted components: Cordon's relay for a claimed
//     peer domain, its MUC): the sender side only — that component judges the destination
//     itself (the relay the peer's direction clearance and controls, the MUC the room) but knows
//     nothing of where the session is, so the location and the sender's and server's clearances
//     are checked here, once. The verdict carries the policy's form as for a peer, but the module
//     sends the message on as written (the component decides its label: a room's default label
//     is the room's, not the guard's); the policy's form is what the sent carbons carry.
// A refusal is the one-to-one rule's error (forbidden, nothing of the message in it). Each of the
// sender's other sessions listed as <copy/> gets its XEP-0280 sent carbon in its form, in the same
// answer (no second question). The reference rule (message-references.ts) is the delivering
// side's: an outbound message is neither judged against nor remembered in a conversation.
import type { ClearanceReader, ClearanceState } from "@cordon/rules";

/** Where an outbound message goes: another domain (its peer clearance), or a trusted component of Cordon's. */
export type OutboundDestination = "peer" | "component";

/** The destination's clearance, for the one-to-one rule's recipient (undefined: the component judges it). */
export function destinationClearance(
  clearances: ClearanceReader,
  destination: OutboundDestination,
  domain: string,
): Promise<ClearanceState> | undefined {
  return destination === "peer" ? clearances.peer(domain, "outbound") : undefined;
}
