// What the service's operator (the admin console, `packages/cli` admin routes) may do in rooms that
// an owner may not, and what it may not do. The operator acts as the service, not as an occupant:
// - It never enters a room: it sees the room's label, clearance, default label and occupants (nick,
//   real JID, role, affiliation, clearance) — never messages, history, the subject or status texts.
//   So its own clearance is not asked when it sets a room label (an owner's must cover the label:
//   an owner is an occupant who will read what is written under it, security/room-authority.ts).
// - Every label it sets is bound by the service clearance exactly as an owner's is
//   (service-clearance.ts, room-config-form.ts readSecurityChoices): it cannot set a room label, a
//   room clearance or a default label outside the service clearance; when the service clearance
//   cannot be read, nothing is set (fail closed).
// - A new room label takes effect as an owner's does (owner.ts applyRoomLabel: the subject and
//   status texts forgotten, security/room-relabel.ts; every occupant it does not cover removed
//   with 307 before anything is awaited; 104 to those who stay).
// - It may kick any occupant, owners and admins included (XEP-0045 §8.2 lets a moderator kick no
//   one of higher affiliation and never an owner or admin; the operator is above the room's
//   affiliations). A kick is not a ban: the kicked occupant may enter again if its clearance allows.
//   The presence carries no <actor/> (the operator is not an occupant, XEP-0045 §8.2 makes it
//   optional); its reason is treated as a moderator's (room content: only for occupants whose
//   clearance is known now, presence.ts takeOut).
// - It may destroy any room (XEP-0045 §10.9, owner.ts destroyRoom: occupants told, with the reason
//   only when their clearance is known now).
// - It may create a room directly configured (not locked, XEP-0045 §10.1.1 locking protects an
//   owner's unconfigured room; the operator configures it at once). Owners it names must be cleared
//   for the room label now (room-authority.ts requireClearedGrantee, as for an owner's grant).
// Texts it supplies (name, reasons) are bounded like an occupant's (the link's `status` limit).

/** Stands for the operator where a rule asks for the submitter's clearance (room-config-form.ts). */
export const SERVICE_OPERATOR: unique symbol = Symbol("the service's operator");
