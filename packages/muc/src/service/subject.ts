// The room subject (XEP-0045 §7.2.16 and §8.1): sent last on entry, always, empty when unset.
// A subject change carries no label and is not subject to label checks (XEP-0258 §"Room Subject");
// one that carries a label is refused. The subject is room content all the same: it reaches only
// occupants whose clearance is known now (one whose clearance turned unknown gets it once it is
// known again and still covers the room), and one whose clearance is unknown cannot change it.
import { ownString } from "../room/own-string.js";
import type { Element } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { subjectMessage } from "./stanzas.js";
import { NS_SEC_LABEL } from "../namespaces.js";

export function subjectStanza(room: Room, to: string): string {
  const from = room.subject.nick ? `${room.jid}/${room.subject.nick}` : room.jid;
  return subjectMessage(from, to, room.subject.text);
}

export async function changeSubject(
  ctx: MucContext,
  room: Room,
  sender: Occupant,
  stanza: Element,
): Promise<void> {
  if (stanza.getChild("securitylabel", NS_SEC_LABEL)) {
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "cancel",
      text: "a subject change must not carry a security label",
    });
  }
  if (!(room.config.changeSubject && sender.role !== "visitor") && sender.role !== "moderator") {
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "auth",
      text: "you may not change the subject",
    });
  }
  if (sender.clearance.status !== "known") {
    return ctx.refuse(stanza, {
      condition: "internal-server-error",
      type: "wait",
      text: "your clearance cannot be determined right now",
    });
  }
  // Kept as an own copy, not a slice of the stanza's network chunk (room/own-string.ts).
  room.subject = { text: ownString(stanza.getChildText("subject") ?? ""), nick: sender.nick };
  await ctx.saveRoom(room);
  await ctx.send(
    [...room.occupants.values()]
      .filter((o) => o.clearance.status === "known")
      .map((o) => subjectStanza(room, o.jid)),
  );
}
