// One message as one occupant receives it: from room/nick, the original id, the policy's
// <securitylabel/> for the label the occupant may see, the body (FLOT-prefixed for label-unaware
// clients or when the room asks for it), the room's stanza-id and the sender's occupant-id.
import type { Label } from "@cordon/policy";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { attr, bodyXml, occupantIdXml, stanzaIdXml } from "./stanzas.js";
import { flotBody } from "../security/label-rendering.js";
import { NS_MUC_USER } from "../namespaces.js";

export interface RenderedMessage {
  type: "groupchat" | "chat";
  fromNick: string;
  id: string | undefined;
  body: string | undefined;
  /** Other payload, serialised. */
  extra: string;
  label: Label;
  stanzaId?: string | undefined;
  occupantId: string;
  /** Sender's real JID (added as XEP-0045 §7.8 addresses? no: used only for non-anonymous PM headers). */
  senderJid?: string;
  delay?: string;
}

export function useFlot(room: Room, recipient: Occupant): boolean {
  return room.config.flotAlways || recipient.labelAware !== true;
}

export function messageForOccupant(ctx: Pick<MucContext, "rendering">, room: Room, recipient: Occupant, m: RenderedMessage): string {
  let s = `<message from="${attr(`${room.jid}/${m.fromNick}`)}" to="${attr(recipient.jid)}" type="${m.type}"`;
  if (m.id) s += ` id="${attr(m.id)}"`;
  s += ">";
  if (m.body !== undefined) s += bodyXml(useFlot(room, recipient) ? flotBody(ctx.rendering.marking(m.label), m.body) : m.body);
  s += ctx.rendering.securityLabelXml(m.label);
  s += m.extra;
  if (m.type === "chat") s += `<x xmlns="${NS_MUC_USER}"/>`;
  if (m.delay) s += m.delay;
  if (m.stanzaId) s += stanzaIdXml(m.stanzaId, room.jid);
  s += occupantIdXml(m.occupantId);
  return `${s}</message>`;
}
