// Private messages between occupants (XEP-0045 §7.5), under the same label rules as groupchat
// (XEP-0258 §"Private Messages"): refused when the label is not fit for the room, the sender or
// the recipient — the recipient is never sent a message their clearance does not grant.
import { isElement, serialise, type Element } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { checkMessage } from "./message-gate.js";
import { readServiceBound } from "../security/service-clearance.js";
import { deliverableLabel } from "./delivery.js";
import { messageForOccupant, useFlot } from "./message-render.js";
import { checkReferences, mayReadReferenced } from "../security/message-references.js";
import { NS_SEC_LABEL, NS_SID, NS_OCCUPANT_ID, NS_MUC_USER, NS_XHTML_IM } from "../namespaces.js";

function mayPm(room: Room, sender: Occupant): boolean {
  switch (room.config.allowPm) {
    case "anyone":
      return true;
    case "participants":
      return sender.role === "participant" || sender.role === "moderator";
    case "moderators":
      return sender.role === "moderator";
    default:
      return false;
  }
}

export async function onPrivateMessage(
  ctx: MucContext,
  room: Room,
  sender: Occupant,
  stanza: Element,
  nick: string,
): Promise<void> {
  const type = stanza.attrs.type ?? "normal";
  if (type === "groupchat")
    return ctx.refuse(stanza, {
      condition: "bad-request",
      type: "modify",
      text: "a groupchat message goes to the room, not to an occupant",
    });
  if (!mayPm(room, sender))
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "cancel",
      text: "private messages are not allowed here",
    });
  // Read first: the sender and recipient are then taken as the room has them after the wait.
  const service = await readServiceBound(ctx);
  if (room.byJid.get(sender.jid) !== sender)
    return ctx.refuse(stanza, {
      condition: "not-acceptable",
      type: "modify",
      text: "you are not in this room",
    });
  const recipient = room.occupants.get(nick);
  if (!recipient)
    return ctx.refuse(stanza, {
      condition: "item-not-found",
      type: "cancel",
      text: "no occupant has that nickname",
    });
  const gate = checkMessage(ctx, room, sender, stanza, service, recipient);
  if (!gate.ok) {
    ctx.logger.info({ room: room.jid, reason: gate.reason }, "private message refused");
    return ctx.refuse(stanza, gate.error);
  }
  const refs = checkReferences(ctx, room, sender, stanza, gate.label);
  if (!refs.ok) {
    ctx.logger.info({ room: room.jid, reason: refs.reason }, "private message refused");
    return ctx.refuse(stanza, refs.error);
  }
  const label = deliverableLabel(ctx, recipient, gate.label);
  if (!label || !mayReadReferenced(ctx, recipient, refs.labels)) {
    ctx.logger.info({ room: room.jid, reason: "recipient-not-cleared" }, "private message refused");
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "cancel",
      text: "the recipient is not cleared for this label",
    });
  }
  // A FLOT recipient shows the marking only through the plain <body/>: an XEP-0071 XHTML-IM body
  // would be shown instead, unmarked, so it does not get one.
  const flot = useFlot(room, recipient);
  let extra = "";
  for (const child of stanza.children) {
    if (!isElement(child) || child.name === "body") continue;
    const ns = child.attrs.xmlns;
    if (ns === NS_SEC_LABEL || ns === NS_SID || ns === NS_OCCUPANT_ID || ns === NS_MUC_USER) continue;
    if (flot && child.name === "html" && ns === NS_XHTML_IM) continue;
    extra += serialise(child);
  }
  room.references.add([stanza.attrs.id], ctx.rendering.securityLabelXml(gate.label));
  await ctx.send([
    messageForOccupant(ctx, room, recipient, {
      type: "chat",
      fromNick: sender.nick,
      id: stanza.attrs.id,
      body: stanza.getChildText("body") ?? undefined,
      extra,
      label,
      occupantId: sender.occupantId,
    }),
  ]);
}
