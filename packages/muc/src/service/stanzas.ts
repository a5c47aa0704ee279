// Compact stanza serialisation for the fan-out path (docs/performance.md §2: the server parsing every copy is
// the bottleneck, so no redundant namespace declarations or whitespace). Every builder writes both
// `from` and `to` (ejabberd closes the stream otherwise).
import { escapeXml, escapeXmlText } from "@cordon/component";
import { NS_MUC_USER, NS_OCCUPANT_ID, NS_DELAY, NS_SID } from "../namespaces.js";
import type { Occupant, Role, Affiliation } from "../room/occupant.js";

export const attr = (v: string): string => escapeXml(v);
export const text = (v: string): string => escapeXmlText(v);

export interface PresenceItem {
  affiliation: Affiliation;
  role: Role;
  /** Real JID, only when the recipient may see it. */
  jid?: string;
  nick?: string;
  actor?: string;
  reason?: string;
}

/**
 * What of an occupant's presence (show, status text, caps...) a recipient gets: its status text is
 * room content, so an occupant whose clearance cannot be determined now gets availability only.
 */
export function presencePayloadFor(recipient: Occupant, occupant: Occupant): string {
  return recipient.clearance.kind === "known" || recipient === occupant ? occupant.presenceXml : "";
}

export function itemXml(item: PresenceItem): string {
  let s = `<item affiliation="${item.affiliation}" role="${item.role}"`;
  if (item.jid) s += ` jid="${attr(item.jid)}"`;
  if (item.nick) s += ` nick="${attr(item.nick)}"`;
  if (!item.actor && !item.reason) return `${s}/>`;
  s += ">";
  if (item.actor) s += `<actor nick="${attr(item.actor)}"/>`;
  if (item.reason) s += `<reason>${text(item.reason)}</reason>`;
  return `${s}</item>`;
}

/** An occupant's presence as one recipient sees it (XEP-0045 §7.2.3). */
export function occupantPresence(options: {
  roomJid: string;
  occupant: Occupant;
  to: string;
  type?: "unavailable";
  item: PresenceItem;
  statuses?: readonly number[];
  payload?: string;
  id?: string;
  extraUserXml?: string;
}): string {
  const { roomJid, occupant, to } = options;
  let s = `<presence from="${attr(`${roomJid}/${occupant.nick}`)}" to="${attr(to)}"`;
  if (options.type) s += ` type="${options.type}"`;
  if (options.id) s += ` id="${attr(options.id)}"`;
  s += ">";
  if (options.payload) s += options.payload;
  s += `<x xmlns="${NS_MUC_USER}">${itemXml(options.item)}`;
  for (const code of options.statuses ?? []) s += `<status code="${code}"/>`;
  if (options.extraUserXml) s += options.extraUserXml;
  s += `</x><occupant-id xmlns="${NS_OCCUPANT_ID}" id="${occupant.occupantId}"/></presence>`;
  return s;
}

export function delayXml(ts: number, from: string): string {
  return `<delay xmlns="${NS_DELAY}" from="${attr(from)}" stamp="${new Date(ts).toISOString()}"/>`;
}

export function stanzaIdXml(id: string, by: string): string {
  return `<stanza-id xmlns="${NS_SID}" id="${attr(id)}" by="${attr(by)}"/>`;
}

export function occupantIdXml(id: string): string {
  return `<occupant-id xmlns="${NS_OCCUPANT_ID}" id="${id}"/>`;
}

export function bodyXml(body: string): string {
  return `<body>${text(body)}</body>`;
}
