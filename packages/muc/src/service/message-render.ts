// One message as one occupant receives it: from room/nick, the original id, the policy's
// <securitylabel/> for the label the occupant may see, the body (FLOT-prefixed for label-unaware
// clients or when the room asks for it), the room's stanza-id and the sender's occupant-id.
import type { Label } from "@cordon/policy";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { attr, bodyXml, messageHead, occupantIdXml, PRIVATE_MESSAGE_MARK, stanzaIdXml } from "./stanzas.js";
import { flotText } from "@cordon/rules";
import { flotPayload } from "./flot-payload.js";

export interface RenderedMessage {
  type: "groupchat" | "chat";
  fromNick: string;
  id: string | undefined;
  body: string | undefined;
  /** Other payload, serialised. */
  extra: string;
  /** XEP-0071 XHTML-IM body, serialised; left out for FLOT recipients (it would show unmarked). */
  rich?: string | undefined;
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

/**
 * The payload of a message as one kind of recipient sees it. A label-aware client gets the
 * policy's <securitylabel/>; a label-unaware one gets the marking as the body's first line (FLOT)
 * and no <securitylabel/> it would not show — every copy crosses the server's parser, so what a
 * recipient cannot use is not sent (docs/performance.md §2).
 */
function payload(
  ctx: Pick<MucContext, "rendering">,
  room: Room,
  m: RenderedMessage,
  flot: boolean,
  labelAware: boolean,
): string {
  let s = "";
  const marking = flot ? ctx.rendering.marking(m.label) : "";
  if (m.body !== undefined) s += bodyXml(flot ? flotText(marking, m.body) : m.body);
  if (m.rich !== undefined && !flot) s += m.rich;
  if (labelAware) s += ctx.rendering.securityLabelXml(m.label);
  // FLOT in every other text the client shows, and a marking-only body when there is none (flot-payload.ts).
  s += flot ? flotPayload(m.extra, marking, m.body !== undefined) : m.extra;
  if (m.type === "chat") s += PRIVATE_MESSAGE_MARK;
  if (m.delay) s += m.delay;
  if (m.stanzaId) s += stanzaIdXml(m.stanzaId, room.jid);
  s += occupantIdXml(m.occupantId);
  return `${s}</message>`;
}

function head(room: Room, m: RenderedMessage): string {
  return `${messageHead({ from: `${room.jid}/${m.fromNick}`, type: m.type, id: m.id })} to="`;
}

/**
 * A message as an archive result forwards it (XEP-0313 §"MUC Archives"): no `to`, from the
 * sender's occupant JID, rendered for `recipient` as a live copy would be.
 */
export function archivedMessage(
  ctx: Pick<MucContext, "rendering">,
  room: Room,
  recipient: Occupant,
  m: RenderedMessage,
): string {
  const start = `${messageHead({ xmlns: "jabber:client", from: `${room.jid}/${m.fromNick}`, type: m.type, id: m.id })}>`;
  return `${start}${payload(ctx, room, { ...m, delay: undefined }, useFlot(room, recipient), recipient.labelAware === true)}`;
}

export function messageForOccupant(
  ctx: Pick<MucContext, "rendering">,
  room: Room,
  recipient: Occupant,
  m: RenderedMessage,
): string {
  return `${head(room, m)}${attr(recipient.jid)}">${payload(ctx, room, m, useFlot(room, recipient), recipient.labelAware === true)}`;
}

/** Which copy a recipient gets of one label: label-aware or not, FLOT or not (two bits). */
export function copyKind(room: Room, recipient: Occupant): number {
  return (recipient.labelAware === true ? 2 : 0) + (useFlot(room, recipient) ? 1 : 0);
}

/** The copies of one message: one start tag, and one payload per (label, client kind). */
export interface MessageCopies {
  /** The start tag of every copy, left open before its ` to="…"`. */
  readonly start: string;
  /**
   * The copy after its start tag's `to="…">` (`…</message>`): the same string for every recipient
   * of one label and client kind (the component's sendCopies; service/multicast.ts groups by it).
   */
  payload(recipient: Occupant, label: RenderedMessage["label"]): string;
}

/**
 * Fan-out of one message as copies (component StanzaCopies): the start tag up to its `to` once,
 * and each payload variant built once per message and per (label, client kind); each copy is then
 * only its recipient and a shared payload string, put together by the component's send path.
 */
export function messageCopies(
  ctx: Pick<MucContext, "rendering">,
  room: Room,
  m: Omit<RenderedMessage, "label">,
): MessageCopies {
  const variants = new Map<RenderedMessage["label"], string[]>();
  return {
    start: messageHead({ from: `${room.jid}/${m.fromNick}`, type: m.type, id: m.id }),
    payload(recipient, label) {
      let byKind = variants.get(label);
      if (!byKind) {
        byKind = [];
        variants.set(label, byKind);
      }
      const kind = copyKind(room, recipient);
      let body = byKind[kind];
      if (body === undefined) {
        body = payload(ctx, room, { ...m, label }, (kind & 1) === 1, (kind & 2) === 2);
        byKind[kind] = body;
      }
      return body;
    },
  };
}
