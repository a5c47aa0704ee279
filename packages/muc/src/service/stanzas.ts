// Every stanza the MUC writes as a raw string is built here, and every value in it goes through one
// escaping helper (`attr` for attribute values, `text` for character data). Compact serialisation
// for the fan-out path (docs/performance.md §2: the server parsing every copy is the bottleneck, so
// no redundant namespace declarations or whitespace). Every stanza carries both `from` and `to`
// (ejabberd closes the stream otherwise), except a message forwarded inside an archive result
// (XEP-0313), which has no `to`.
import { escapeXml, escapeXmlText } from "@cordon/component";
import {
  NS_DELAY,
  NS_FORWARD,
  NS_MAM,
  NS_MUC_USER,
  NS_OCCUPANT_ID,
  NS_SEC_LABEL,
  NS_SEC_LABEL_ESS,
  NS_SID,
} from "../namespaces.js";
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
  return recipient.clearance.status === "known" || recipient === occupant ? occupant.presenceXml : "";
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

export interface OccupantPresenceOptions {
  roomJid: string;
  occupant: Occupant;
  to: string;
  type?: "unavailable";
  item: PresenceItem;
  statuses?: readonly number[];
  payload?: string;
  id?: string;
  extraUserXml?: string;
}

/** An occupant's presence as one recipient sees it (XEP-0045 §7.2.3). */
export function occupantPresence(options: OccupantPresenceOptions): string {
  const [head, tail] = occupantPresenceParts(options);
  return head + attr(options.to) + tail;
}

/**
 * The same presence around its `to` value (`head + attr(to) + tail`): a presence every recipient
 * of one kind gets alike (a joiner's, XEP-0045 §7.2.3) is rendered once and addressed per copy.
 */
export function occupantPresenceParts(options: Omit<OccupantPresenceOptions, "to">): [string, string] {
  const { roomJid, occupant } = options;
  const head = `<presence from="${attr(`${roomJid}/${occupant.nick}`)}" to="`;
  let s = '"';
  if (options.type) s += ` type="${options.type}"`;
  if (options.id) s += ` id="${attr(options.id)}"`;
  s += ">";
  if (options.payload) s += options.payload;
  s += `<x xmlns="${NS_MUC_USER}">${itemXml(options.item)}`;
  for (const code of options.statuses ?? []) s += `<status code="${code}"/>`;
  if (options.extraUserXml) s += options.extraUserXml;
  s += `</x>${occupantIdXml(occupant.occupantId)}</presence>`;
  return [head, s];
}

export function delayXml(ts: number, from: string): string {
  return `<delay xmlns="${NS_DELAY}" from="${attr(from)}" stamp="${new Date(ts).toISOString()}"/>`;
}

export function stanzaIdXml(id: string, by: string): string {
  return `<stanza-id xmlns="${NS_SID}" id="${attr(id)}" by="${attr(by)}"/>`;
}

export function occupantIdXml(id: string): string {
  return `<occupant-id xmlns="${NS_OCCUPANT_ID}" id="${attr(id)}"/>`;
}

export function bodyXml(body: string): string {
  return `<body>${text(body)}</body>`;
}

/** The room subject (XEP-0045 §7.2.16), from the room or the occupant who set it. */
export function subjectMessage(from: string, to: string, subject: string): string {
  const element = subject ? `<subject>${text(subject)}</subject>` : "<subject/>";
  return `<message from="${attr(from)}" to="${attr(to)}" type="groupchat">${element}</message>`;
}

/** A mediated invitation (XEP-0045 §7.8.2) as the room sends it; `labelXml` from the policy or "". */
export function invitationMessage(options: {
  room: string;
  to: string;
  id?: string | undefined;
  inviter: string;
  reason?: string | null | undefined;
  password?: string | undefined;
  labelXml: string;
}): string {
  let s = `<message from="${attr(options.room)}" to="${attr(options.to)}"`;
  if (options.id) s += ` id="${attr(options.id)}"`;
  s += `><x xmlns="${NS_MUC_USER}"><invite from="${attr(options.inviter)}">`;
  if (options.reason) s += `<reason>${text(options.reason)}</reason>`;
  s += "</invite>";
  if (options.password) s += `<password>${text(options.password)}</password>`;
  return `${s}</x>${options.labelXml}</message>`;
}

/** A declined invitation (XEP-0045 §7.8.2), relayed to the inviter only. */
export function declineMessage(room: string, to: string, decliner: string, reason?: string | null): string {
  let s = `<message from="${attr(room)}" to="${attr(to)}"><x xmlns="${NS_MUC_USER}"><decline from="${attr(decliner)}">`;
  if (reason) s += `<reason>${text(reason)}</reason>`;
  return `${s}</decline></x></message>`;
}

/** XEP-0045 §10.2.1: status 104, the room's configuration changed. */
export function configChangeMessage(room: string, to: string): string {
  return `<message from="${attr(room)}" to="${attr(to)}" type="groupchat"><x xmlns="${NS_MUC_USER}"><status code="104"/></x></message>`;
}

/** XEP-0045 §10.9: the room is destroyed, as each occupant is told. */
export function destroyPresence(options: {
  from: string;
  to: string;
  reason?: string | undefined;
  alternate?: string | undefined;
}): string {
  let destroy = options.alternate ? `<destroy jid="${attr(options.alternate)}">` : "<destroy>";
  if (options.reason) destroy += `<reason>${text(options.reason)}</reason>`;
  destroy += "</destroy>";
  return `<presence from="${attr(options.from)}" to="${attr(options.to)}" type="unavailable"><x xmlns="${NS_MUC_USER}"><item affiliation="none" role="none"/>${destroy}</x></presence>`;
}

/**
 * The start tag of a message from an occupant, left open: the fan-out adds ` to="…">` per copy
 * (`messageHead(…) + ' to="'`), an archived copy (`jabber:client`, no `to`) closes it with `>`.
 */
export function messageHead(options: {
  from: string;
  type: "groupchat" | "chat";
  id?: string | undefined;
  xmlns?: string;
}): string {
  let s = "<message";
  if (options.xmlns) s += ` xmlns="${attr(options.xmlns)}"`;
  s += ` from="${attr(options.from)}" type="${options.type}"`;
  if (options.id) s += ` id="${attr(options.id)}"`;
  return s;
}

/** XEP-0045 §7.5: a private message carries an empty muc#user element. */
export const PRIVATE_MESSAGE_MARK = `<x xmlns="${NS_MUC_USER}"/>`;

/** One XEP-0313 result: `message` (already built) forwarded with its archive stamp. */
export function archiveResult(options: {
  room: string;
  to: string;
  id: string;
  queryId?: string | undefined;
  resultId: string;
  ts: number;
  message: string;
}): string {
  const queryId = options.queryId !== undefined ? ` queryid="${attr(options.queryId)}"` : "";
  return `<message from="${attr(options.room)}" to="${attr(options.to)}" id="${attr(options.id)}"><result xmlns="${NS_MAM}"${queryId} id="${attr(options.resultId)}"><forwarded xmlns="${NS_FORWARD}"><delay xmlns="${NS_DELAY}" stamp="${new Date(options.ts).toISOString()}"/>${options.message}</forwarded></result></message>`;
}

/**
 * A stored room label as the <securitylabel/> the label resolver reads (never sent): ESS as base64
 * (escaped), or the stored XML itself, which is a label's XML by construction and goes in as is.
 */
export function storedLabelXml(raw: { encoding: "ber" | "xml"; data: string }): string {
  if (raw.encoding === "ber")
    return `<securitylabel xmlns="${NS_SEC_LABEL}"><label><esssecuritylabel xmlns="${NS_SEC_LABEL_ESS}">${text(raw.data)}</esssecuritylabel></label></securitylabel>`;
  return raw.data.trimStart().startsWith("<securitylabel")
    ? raw.data
    : `<securitylabel xmlns="${NS_SEC_LABEL}"><label>${raw.data}</label></securitylabel>`;
}
