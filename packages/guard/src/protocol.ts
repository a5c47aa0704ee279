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
//   component, another server — is decided for the copies alone: sender, server, locations;
//   the modules now ask such a message with outbound='…' instead, its copies in that question)
//   (outbound='peer' or 'component', with origin='c2s' and no <session/>: a message a local
//   session sends to another domain, asked on its way out — outbound.ts: 'peer' a remote server
//   or an untrusted component, judged against that domain's outbound peer clearance; 'component'
//   one of the module's trusted components, the sender side only; <copy/> as above)
//   (origin='component': a message one of the module's trusted components delivers — Cordon's relay
//   for a claimed peer domain, a MUC that does not locate its occupants itself — decided by
//   component-delivery.ts for each <session/>'s location alone, the message going on as written)
//   (compact='1' or '2': the module can rebuild the delivered message itself — see the compact verdicts)
//   (offline='1': a stored message replayed to the sessions listed; one none of them may have is
//   answered deliver with form='none' for each — it stays stored — instead of refused)
//   (refresh='1': asked ahead of a kept verdict's end about a message the module has already
//   delivered from that verdict — the answer only renews the cache; counted apart from the
//   decisions on messages, so a message is never counted twice)
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
//   <verdict action='deliver' keep='1'><securitylabel xmlns='urn:xmpp:sec-label:0'>…</securitylabel>
//       <flot>…</flot><session …/>…</verdict>                      (compact: asked with compact='1')
//       the delivered message is the one asked about with each of its top-level XEP-0258 labels
//       replaced by the verdict's <securitylabel/> children (the label re-encoded from the decided
//       one; none for an error message): sent only when that is exactly the decided message, so
//       an unchanged body is not sent back (docs/performance.md §4)
//   <verdict action='deliver' keep='1' label='&lt;securitylabel …/&gt;'>     (asked with compact='2')
//       <flot keep='1'><body xmlns='jabber:client'>…</body></flot><session …/>…</verdict>
//       as keep='1', the one label as XML text in an attribute (the module parses each distinct
//       label once, not an element tree per message); and the FLOT form, when it is the delivered
//       message with some of its top-level children in the stanza's namespace replaced, as those
//       replacements: each, in order, takes the place of the next such child of the same name
//       (otherwise the whole FLOT message). Each is sent only when the module's rebuilding gives
//       exactly the decided form (checked here by rebuilding it the module's way).
//   <verdict action='deliver' keep='1' epoch='…' cache='1'>…<prefix>MARKING&#10;</prefix>…</verdict>
//       (verdict-cache.ts) the module may reuse this verdict, for the cache's few seconds, for a
//       question with the same key: the label in place of the new message's, each body of the FLOT
//       form the new body with <prefix/>'s text before it. `epoch`: the guard's cache epoch the
//       verdict was decided in; the guard tells each served server a new one at once:
//         <iq type='set' from='guard…' to='example.test'><epoch xmlns='urn:cordon:guard:0' n='…'/></iq>
//   <verdict action='refuse'><message xmlns='jabber:client' type='error' …/></verdict>
//       the error the sender gets, built here: nothing of the message in it (RFC 6120 §8.3)
//   <verdict action='drop'/>
//       nothing is delivered and nobody is told (an error message is never answered, RFC 6120 §8.3.1)
//
// An IQ error, a timeout or no answer at all: the module refuses with a `wait` error (fail closed).
//
// A module also tells the guard, every few seconds, how many messages it served from its verdict
// cache: <iq type='set'><served xmlns='urn:cordon:guard:0' n='…'/></iq> (cache-report.ts), and
// what it measured of the latency the check adds: <latency xmlns='urn:cordon:guard:0'><h …/></latency>
// (latency-report.ts).
//
// The same link carries the server access label's question (access.ts): before a user binds a
// resource the module asks <access jid='user@host'/> and gets <access-verdict action='allow|deny'/>.
//
// The other way, a module answers where one of its host's sessions connected from (issue 17: the
// label catalog applies the client-location rule to the session asking it; @cordon/catalog
// session-address.ts asks, the modules answer):
//   <iq type='get' from='catalog.example.test' to='example.test'>
//     <session xmlns='urn:cordon:guard:0' jid='alice@example.test/phone'/></iq>
//   → <session xmlns='urn:cordon:guard:0' jid='…' ip='10.9.0.7'/>   (the session's address)
//   → item-not-found: this host has no such session
//   → forbidden: the asker is neither the guard nor one of the module's trusted components
//     (Prosody cordon_guard_trusted_components, ejabberd trusted_components)
// and a user's sessions, each with its address (the catalog offers toward a user only what the
// guard lets through to the sessions it would be asked about: @cordon/rules client-location.ts
// recipientRefused; session-address.ts askingServerSessions asks):
//   <iq type='get' from='catalog.example.test' to='example.test'>
//     <sessions xmlns='urn:cordon:guard:0' jid='bob@example.test'/></iq>
//   → <sessions xmlns='urn:cordon:guard:0' jid='…'><session resource='…' ip='…'/>…</sessions>
//     (every session a check would list; none: offline; `ip` absent when the server has none)
//   → resource-constraint: more than 64 sessions (nothing listed; the catalog fails closed)
//   → bad-request: not a bare JID of this host; forbidden: as for <session/> (the same askers)
import { isElement, serialise, xml, type Element } from "@cordon/component";
import { NS_CLIENT, NS_GUARD } from "./namespaces.js";
import { isLabel } from "./message-forms.js";
import type { OutboundDestination } from "./outbound.js";

/** Where the message came from, as only the server knows: one of its client sessions, another server, or one of its trusted components (component-delivery.ts). */
export type CheckOrigin = "c2s" | "s2s" | "component";

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
  /** The module rebuilds a delivered message from the one it asked about (a compact verdict, 1 or 2). */
  readonly compact?: 0 | 1 | 2;
  /** Asked ahead of a kept verdict's end: the message went from the cache already (counted apart). */
  readonly refresh?: boolean;
  /** A message a local session sends to another domain, asked on its way out (outbound.ts). */
  readonly outbound?: OutboundDestination;
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
  if (origin !== "c2s" && origin !== "s2s" && origin !== "component") return undefined;
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
  const outbound = check.attrs.outbound;
  if (
    outbound !== undefined &&
    (origin !== "c2s" || (outbound !== "peer" && outbound !== "component") || sessions.length > 0)
  )
    return undefined;
  // A trusted component's delivery (component-delivery.ts): a message, or a presence or IQ that may
  // carry a label (adv17d), its recipient's sessions only.
  if (origin === "component" && (copies.length > 0 || check.attrs.archive === "1")) return undefined;
  return {
    origin,
    message,
    senderIp: senderIp || undefined,
    sessions,
    offline: check.attrs.offline === "1",
    ...(copies.length > 0 ? { copies } : {}),
    archive: check.attrs.archive === "1",
    compact: check.attrs.compact === "2" ? 2 : check.attrs.compact === "1" ? 1 : 0,
    refresh: check.attrs.refresh === "1",
    ...(outbound ? { outbound } : {}),
  };
}

/** The verdict cache's part of an answer (verdict-cache.ts). */
export interface CacheMark {
  /** The guard's cache epoch the verdict was decided in. */
  readonly epoch: string;
  /** Whether (and how) the verdict may be reused: given the compact verdict's labels. */
  readonly template: (labels: readonly Element[] | undefined) => { readonly flot: string } | undefined;
}

/**
 * The `<verdict/>` element answering a check. With `asked` (a compact check: the message asked
 * about), a delivered message that is exactly `asked` with its top-level labels replaced is sent
 * as those labels alone (keep='1'). With `cache`: a delivered verdict carries `epoch`, and one the
 * module may reuse (verdict-cache.ts) `cache='1'` and `<prefix>` — the text each body of the FLOT
 * form starts with.
 */
export function verdictElement(
  verdict: Verdict,
  asked?: Element,
  compact: 1 | 2 = 1,
  cache?: CacheMark,
): Element {
  switch (verdict.action) {
    case "deliver": {
      const labels = asked ? replacedLabels(asked, verdict.message) : undefined;
      const attrs: Record<string, string> = { xmlns: NS_GUARD, action: "deliver" };
      const template = cache && labels ? cache.template(labels) : undefined;
      if (cache) attrs.epoch = cache.epoch;
      if (template) attrs.cache = "1";
      let children: Element[] = [inClientNs(verdict.message)];
      let flot = verdict.flot ? [xml("flot", {}, inClientNs(verdict.flot))] : [];
      if (labels) {
        attrs.keep = "1";
        children = labels;
        if (compact === 2 && labels.length <= 1) {
          if (labels[0]) attrs.label = serialise(labels[0]); // (character references kept: serialise)
          children = [];
          const replaced = verdict.flot ? replacedTexts(verdict.message, verdict.flot) : undefined;
          if (replaced) flot = [xml("flot", { keep: "1" }, ...replaced.map(inClientNs))];
        }
      }
      return xml(
        "verdict",
        attrs,
        ...children,
        ...flot,
        ...(template?.flot ? [xml("prefix", {}, template.flot)] : []),
        ...(verdict.sessions ?? []).map((s) => xml("session", { resource: s.resource, form: s.form })),
        ...(verdict.copies ?? []).map((s) => xml("copy", { resource: s.resource, form: s.form })),
      );
    }
    case "refuse":
      return xml("verdict", { xmlns: NS_GUARD, action: "refuse" }, inClientNs(verdict.error));
    case "drop":
      return xml("verdict", { xmlns: NS_GUARD, action: "drop" });
  }
}

/**
 * The labels `delivered` puts in place of `asked`'s, when `delivered` is `asked` — same name, same
 * attributes, the very same other children in the same order — with its top-level labels removed
 * and these appended; otherwise undefined (the whole message is sent).
 */
function replacedLabels(asked: Element, delivered: Element): Element[] | undefined {
  if (asked === delivered || asked.name !== delivered.name) return undefined;
  const a = Object.keys(asked.attrs);
  const d = Object.keys(delivered.attrs);
  if (a.length !== d.length || a.some((k) => asked.attrs[k] !== delivered.attrs[k])) return undefined;
  const kept = asked.children.filter((c) => !isLabel(c));
  const out = delivered.children;
  if (out.length < kept.length || kept.some((c, i) => out[i] !== c)) return undefined;
  const added = out.slice(kept.length);
  if (!added.every((c): c is Element => isLabel(c))) return undefined;
  return added;
}

const inStanzaNs = (el: Element): boolean => el.attrs.xmlns === undefined || el.attrs.xmlns === NS_CLIENT;

/**
 * The replacements that make `flot` from `delivered` the module's way — each, in order, takes the
 * place of the next top-level child of `delivered` in the stanza's namespace with its name — or
 * undefined when `flot` is not made that way (checked by making it: same serialisation).
 */
function replacedTexts(delivered: Element, flot: Element): Element[] | undefined {
  if (flot.name !== delivered.name) return undefined;
  const replacements = flot.children.filter(
    (c): c is Element => isElement(c) && inStanzaNs(c) && !delivered.children.includes(c),
  );
  let next = 0;
  const children = delivered.children.map((c) => {
    const r = replacements[next];
    if (r && isElement(c) && inStanzaNs(c) && r.name === c.name) {
      next++;
      return r;
    }
    return c;
  });
  if (next !== replacements.length) return undefined;
  // The children only: the module gives the FLOT form the message's own addresses.
  const rebuilt = xml("x");
  rebuilt.children = children;
  const expected = xml("x");
  expected.children = flot.children;
  if (rebuilt.toString() !== expected.toString()) return undefined;
  return replacements.map((r) => xml(r.name, { ...r.attrs }, ...r.children));
}

/** A stanza embedded in a verdict names its namespace: the component stream's is not the client's. */
function inClientNs(stanza: Element): Element {
  stanza.attrs.xmlns = NS_CLIENT;
  return stanza;
}
