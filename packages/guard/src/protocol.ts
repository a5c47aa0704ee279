// The guard protocol, between a server module (Prosody mod_cordon_guard, ejabberd
// mod_cordon_guard) and the guard, over the XEP-0114 link the guard already has (an IQ from the
// server's own domain to the guard's):
//
//   <iq type='get' from='example.test' to='guard.example.test' id='…'>
//     <check xmlns='urn:cordon:guard:0' origin='c2s|s2s' ip='…'>      (ip: the sending session's, c2s)
//       <message xmlns='jabber:client' from='…' to='…'>…</message>    (as the server would deliver it)
//       <session resource='…' ip='…' labels='1|0'/>                   (each session of the recipient:
//     </check></iq>                                                    its address, XEP-0258 in its caps)
//   (a <presence/> or <iq/> in place of the message: one that may carry a label, judged by
//   labelled-payload.ts — answered deliver without sessions, or refuse/drop)
//   (archive='1': an XEP-0313 result about to be sent to the one session listed, decided by
//   archive-result.ts — deliver carries the result as that session must get it, else drop)
//   <copy resource='…' ip='…' labels='1|0'/> (a c2s message): each other session of the sender
//   about to get an XEP-0280 sent carbon of it; answered <copy resource='…' form='…'/> — the
//   sender's own copies, decided as the message is (a message to no user of this server — a
//   component, another server — is decided for the copies alone: sender, server, locations)
//   (offline='1': a stored message replayed to the sessions listed; one none of them may have is
//   answered deliver with form='none' for each — it stays stored — instead of refused)
//
//   <verdict xmlns='urn:cordon:guard:0' action='deliver'><message xmlns='jabber:client'>…</message>
//       <flot><message xmlns='jabber:client'>…</message></flot>      (when a session gets FLOT)
//       <session resource='…' form='label|flot|none'/>                (each session asked about)
//   </verdict>
//       the message's children as they must be delivered (its addresses stay the server's): the
//       labelled form to a label-aware session, the FLOT form (XEP-0258 §5) to one whose client
//       does not advertise labels, nothing to a session whose location does not grant the label
//       (a session not listed — bound after the question — gets nothing either); with no
//       sessions asked about (the user is offline) the labelled form is stored
//   <verdict action='refuse'><message xmlns='jabber:client' type='error' …/></verdict>
//       the error the sender gets, built here: nothing of the message in it (RFC 6120 §8.3)
//   <verdict action='drop'/>
//       nothing is delivered and nobody is told (an error message is never answered, RFC 6120 §8.3.1)
//
// An IQ error, a timeout or no answer at all: the module refuses with a `wait` error (fail closed).
//
// The same link carries the server access label's question (access.ts): before a user binds a
// resource the module asks <access jid='user@host'/> and gets <access-verdict action='allow|deny'/>.
import { isElement, xml, type Element } from "@cordon/component";
import { NS_CLIENT, NS_GUARD } from "./namespaces.js";

/** Where the message came from, as only the server knows: one of its client sessions, or another server. */
export type CheckOrigin = "c2s" | "s2s";

/** One session of the recipient, as the server knows it. */
export interface RecipientSession {
  readonly resource: string;
  /** The address the client connected from, when the server knows it. */
  readonly ip: string | undefined;
  /** Whether the client advertised urn:xmpp:sec-label:0 (XEP-0115 caps → XEP-0030 disco#info). */
  readonly labels: boolean;
}

export interface CheckRequest {
  readonly origin: CheckOrigin;
  readonly message: Element;
  /** The sending session's address (c2s), when the server gave it. */
  readonly senderIp?: string | undefined;
  /** The recipient's sessions (empty: offline, or a module that does not tell). */
  readonly sessions: readonly RecipientSession[];
  /** A stored (offline) message replayed to the sessions listed. */
  readonly offline?: boolean;
  /** The sender's other sessions about to get an XEP-0280 sent carbon of the message. */
  readonly copies?: readonly RecipientSession[];
  /** An XEP-0313 archive result about to be sent to the session listed (archive-result.ts). */
  readonly archive?: boolean;
}

/** What one session of the recipient gets. */
export type SessionForm = "label" | "flot" | "none";

export type Verdict =
  | {
      readonly action: "deliver";
      readonly message: Element;
      /** The FLOT form, when a session gets it. */
      readonly flot?: Element;
      readonly sessions?: readonly { readonly resource: string; readonly form: SessionForm }[];
      /** What each of the sender's other sessions gets as its sent carbon. */
      readonly copies?: readonly { readonly resource: string; readonly form: SessionForm }[];
    }
  | { readonly action: "refuse"; readonly error: Element }
  | { readonly action: "drop" };

/** How many sessions of one recipient a check may list (a server limits a user's sessions far below). */
export const MAX_SESSIONS = 256;
/** The longest resource or address a check may carry (RFC 7622 §3.4: a resourcepart is ≤ 1023 bytes). */
const MAX_RESOURCE = 1023;
const MAX_IP = 64;

/** The request in a `<check/>`, or undefined when it is not one (answered bad-request). */
export function readCheck(check: Element): CheckRequest | undefined {
  const origin = check.attrs.origin;
  if (origin !== "c2s" && origin !== "s2s") return undefined;
  const children = check.children.filter(isElement);
  const message = children[0];
  // A message; or a presence or IQ that may carry a label (labelled-payload.ts).
  if (message?.name !== "message" && message?.name !== "presence" && message?.name !== "iq") return undefined;
  if (message.attrs.xmlns !== undefined && message.attrs.xmlns !== NS_CLIENT) return undefined;
  const rest = children.slice(1);
  if (rest.length > MAX_SESSIONS) return undefined;
  const sessions: RecipientSession[] = [];
  const copies: RecipientSession[] = [];
  for (const s of rest) {
    const { resource, ip, labels } = s.attrs;
    if (s.name !== "session" && s.name !== "copy") return undefined;
    if (resource === undefined || resource === "" || resource.length > MAX_RESOURCE) return undefined;
    if (ip !== undefined && ip.length > MAX_IP) return undefined;
    (s.name === "session" ? sessions : copies).push({
      resource,
      ip: ip || undefined,
      labels: labels === "1" || labels === "true",
    });
  }
  const senderIp = check.attrs.ip;
  if (senderIp !== undefined && senderIp.length > MAX_IP) return undefined;
  return {
    origin,
    message,
    senderIp: senderIp || undefined,
    sessions,
    offline: check.attrs.offline === "1",
    ...(copies.length > 0 ? { copies } : {}),
    archive: check.attrs.archive === "1",
  };
}

/** The `<verdict/>` element answering a check. */
export function verdictElement(verdict: Verdict): Element {
  switch (verdict.action) {
    case "deliver":
      return xml(
        "verdict",
        { xmlns: NS_GUARD, action: "deliver" },
        inClientNs(verdict.message),
        ...(verdict.flot ? [xml("flot", {}, inClientNs(verdict.flot))] : []),
        ...(verdict.sessions ?? []).map((s) => xml("session", { resource: s.resource, form: s.form })),
        ...(verdict.copies ?? []).map((s) => xml("copy", { resource: s.resource, form: s.form })),
      );
    case "refuse":
      return xml("verdict", { xmlns: NS_GUARD, action: "refuse" }, inClientNs(verdict.error));
    case "drop":
      return xml("verdict", { xmlns: NS_GUARD, action: "drop" });
  }
}

/** A stanza embedded in a verdict names its namespace: the component stream's is not the client's. */
function inClientNs(stanza: Element): Element {
  stanza.attrs.xmlns = NS_CLIENT;
  return stanza;
}
