// What a room keeps from under its old label when the label changes (XEP-0258 §"Use in Group
// Chat"): messages keep their own labels, in history and the archive, and are replayed per reader
// as always. The subject and occupants' presence status texts carry no label of their own: they
// were written for the people the old label admitted. Any change of the room label therefore
// clears the subject and every occupant's <status/> text (RFC 6121 §4.7.2.2) instead of handing
// them to people the new label admits; occupants the new label does not cover are removed (307) by
// the caller. The occupants who stay were cleared for both labels: nothing is sent to them.
import { isElement, parseElement, serialise } from "@cordon/component";
import { sameLabel, type Label } from "@cordon/policy";
import type { Room } from "../room/room.js";

/** Whether moving a room from `before` to `after` is a label change (anything but the same label). */
export function isRelabel(before: Label | undefined, after: Label | undefined): boolean {
  if (!before || !after) return before !== after;
  return !sameLabel(before, after);
}

/** A presence payload without its <status/> texts (other children kept as they were). */
export function withoutStatus(presenceXml: string): string {
  if (!presenceXml.includes("status")) return presenceXml;
  let wrapper;
  try {
    wrapper = parseElement(`<p>${presenceXml}</p>`);
  } catch {
    return ""; // cannot be read back: keep nothing (fail closed)
  }
  return wrapper.children
    .filter(isElement)
    .filter(
      (c) => !(c.name === "status" && (c.attrs.xmlns === undefined || c.attrs.xmlns === "jabber:client")),
    )
    .map((c) => serialise(c))
    .join("");
}

/** Forgets the subject and the occupants' status texts written under the room's previous label. */
export function forgetUnlabelledContent(room: Room): void {
  room.subject = { text: "", nick: "" };
  for (const occupant of room.occupants.values()) {
    const stripped = withoutStatus(occupant.presenceXml);
    if (stripped !== occupant.presenceXml) room.setPresence(occupant, stripped);
  }
}
