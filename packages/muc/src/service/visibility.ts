// Who sees what of an occupant (XEP-0045 §7.2.3): the real JID goes to everyone in a
// non-anonymous room, to moderators only in a semi-anonymous one.
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { PresenceItem } from "./stanzas.js";

export function itemFor(
  room: Room,
  subject: Occupant,
  recipient: Occupant | undefined,
  extra: Partial<PresenceItem> = {},
): PresenceItem {
  const seesJid = room.config.whois === "anyone" || recipient?.role === "moderator" || recipient === subject;
  return {
    affiliation: subject.affiliation,
    role: subject.role,
    ...(seesJid ? { jid: subject.jid } : {}),
    ...extra,
  };
}
