// IQ control at the boundary (RFC 6120 §8.2.3, https://www.rfc-editor.org/rfc/rfc6120#section-8.2.3).
// A request (get/set) crosses only when its one payload is in a namespace the direction allows;
// a response (result/error) crosses only as the answer to a request that crossed the other way —
// same id, addresses swapped, within `answerTimeoutMs` — and a result's payload, if any, must be
// in the request's namespace. Anything else would be a channel for content no rule looks at: an
// unsolicited result, or a request in a protocol nobody reviewed for the boundary.
import {
  isElement,
  parseJid,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_GUARD,
  NS_PING,
  NS_SEC_LABEL,
  NS_SEC_LABEL_CATALOG,
  type Element,
} from "@cordon/component";
import { ByteLru, internalized } from "@cordon/policy";
import { elementTexts } from "./content-check.js";

/**
 * What crosses by default: reachability and discovery (XEP-0199, XEP-0030), vCards (XEP-0054:
 * avatars and nicknames), label catalogs of rooms (XEP-0258) and room administration (XEP-0045).
 * Software version, time and last activity (XEP-0092, 0202, 0012) disclose more than they serve.
 */
export const DEFAULT_IQ_NAMESPACES: readonly string[] = [
  NS_PING,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  "vcard-temp",
  NS_SEC_LABEL_CATALOG,
  "http://jabber.org/protocol/muc#admin",
  "http://jabber.org/protocol/muc#owner",
];

export interface IqRules {
  /** Payload namespaces of requests that may cross, or "any". */
  namespaces: readonly string[] | "any";
}

export type IqCheck =
  /** A request (its payload's namespace), or an answer (the id of the request it answers, as its requester sent it). */
  | { ok: true; request?: { namespace: string }; answers?: { id: string } }
  | {
      ok: false;
      reason: "iq-malformed" | "iq-namespace" | "iq-unsolicited" | "iq-answer-namespace";
      detail?: string;
    };

/**
 * The payload children of an IQ (RFC 6120 §8.2.3: a request has exactly one; an error may also
 * carry the request's). The IQ's `<securitylabel/>` (XEP-0258) labels it: it is not a payload. Only
 * an IQ of type `error` has an error (RFC 6120 §8.3.1), and only in the stanza's namespace: an
 * `<error/>` anywhere else, or in another namespace, is a payload like any other.
 */
function payloads(iq: Element): Element[] {
  const isError = iq.attrs.type === "error";
  return iq.children.filter(
    (c): c is Element =>
      isElement(c) &&
      !(isError && isStanzaError(c)) &&
      !(c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL),
  );
}

const STANZA_NS = new Set(["jabber:client", "jabber:server", "jabber:component:accept"]);

/** RFC 6120 §8.3.2: the `<error/>` child of an error stanza, in the stanza's own namespace. */
export function isStanzaError(el: Element): boolean {
  return el.name === "error" && (el.attrs.xmlns === undefined || STANZA_NS.has(el.attrs.xmlns));
}

/** A namespace as audit detail: a token (printable ASCII, no space, at most 128 characters), never prose the sender wrote (the audit holds no content). */
function nsDetail(ns: string | undefined): string {
  return ns !== undefined && /^[\x21-\x7E]{1,128}$/.test(ns) ? ns : "(not a namespace name)";
}

const jidKey = (text: string): string => {
  const jid = parseJid(text);
  if (!jid) return text;
  return `${jid.local ? `${jid.local}@` : ""}${jid.domain}${jid.resource ? `/${jid.resource}` : ""}`;
};

export interface IqTrackerOptions {
  /** How long an answer may take (default 2 minutes). */
  answerTimeoutMs?: number;
  /** Bytes the pending requests may hold: addresses, ids, namespaces and overheads (default 4 MiB). */
  maxBytes?: number;
  /** Requests one sender (bare JID) may have waiting (default 100). */
  perSender?: number;
  now?: () => number;
}

export const DEFAULT_IQ_TRACKING = {
  answerTimeoutMs: 120_000,
  maxBytes: 4 * 1024 * 1024,
  perSender: 100,
} as const;

interface PendingIq {
  namespace: string;
  expires: number;
  /** The requester's bare JID, whose count this request is in. */
  sender: string;
  /** The requester's own id, which the answer goes back under. */
  id: string;
}

const bareKey = (text: string): string => {
  const jid = parseJid(text);
  if (!jid) return text;
  return `${jid.local ? `${jid.local}@` : ""}${jid.domain}`;
};

/**
 * Requests that crossed and wait for their answer, per peering (both directions share it: the
 * answer comes back the other way). Bounded in bytes (every request holds ids and addresses its
 * sender chose: @cordon/policy ByteLru counts them): past `maxBytes` the oldest are forgotten (their
 * answers then do not cross, and the requester times out as it would on a lost answer). One sender
 * may have at most `perSender` requests waiting: `mayExpect` says whether another may cross.
 */
export class IqTracker {
  readonly #pending: ByteLru<PendingIq>;
  readonly #perSender = new Map<string, number>();
  readonly answerTimeoutMs: number;
  readonly perSender: number;
  readonly #now: () => number;

  constructor(options: IqTrackerOptions = {}) {
    this.answerTimeoutMs = options.answerTimeoutMs ?? DEFAULT_IQ_TRACKING.answerTimeoutMs;
    this.perSender = options.perSender ?? DEFAULT_IQ_TRACKING.perSender;
    this.#now = options.now ?? Date.now;
    this.#pending = new ByteLru<PendingIq>(
      options.maxBytes ?? DEFAULT_IQ_TRACKING.maxBytes,
      (v) => 64 + 2 * (v.namespace.length + v.sender.length + v.id.length),
      (_key, v) => this.#release(v.sender),
    );
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Bytes the pending requests hold. */
  get bytes(): number {
    return this.#pending.bytes;
  }

  get maxBytes(): number {
    return this.#pending.maxBytes;
  }

  /** Whether `from` may have one more request waiting. */
  mayExpect(from: string): boolean {
    return (this.#perSender.get(bareKey(from)) ?? 0) < this.perSender;
  }

  /**
   * Remembers a request that is about to cross: `from` asked `to` under `id` (the id it crosses
   * with, the relay's), which answers go back under `originalId` (the requester's own).
   */
  expect(from: string, to: string, id: string, namespace: string, originalId = id): void {
    const key = `${jidKey(from)}\u0000${jidKey(to)}\u0000${id}`;
    this.#drop(key);
    // What is kept is a copy of its own, not a view of the stanza's text (its whole socket read):
    // the byte bound counts these strings alone (review own15; ByteLru owns its keys likewise).
    const sender = internalized(bareKey(from));
    this.#pending.set(key, {
      namespace: internalized(namespace),
      expires: this.#now() + this.answerTimeoutMs,
      sender,
      id: internalized(originalId),
    });
    // Not kept when larger than the whole budget: then no answer crosses.
    if (this.#pending.get(key)) this.#perSender.set(sender, (this.#perSender.get(sender) ?? 0) + 1);
  }

  /** Forgets a request that did not cross after all (its audit record could not be written). */
  forget(from: string, to: string, id: string): void {
    this.#drop(`${jidKey(from)}\u0000${jidKey(to)}\u0000${id}`);
  }

  /** Takes the request an answer from `from` to `to` under `id` answers; undefined if none (or expired). */
  answer(from: string, to: string, id: string): { namespace: string; id: string } | undefined {
    const found = this.#drop(`${jidKey(to)}\u0000${jidKey(from)}\u0000${id}`);
    if (!found) return undefined;
    return found.expires >= this.#now() ? { namespace: found.namespace, id: found.id } : undefined;
  }

  /** Forgets expired requests (called now and then; lookups check expiry themselves). */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#pending.entries()) if (entry.expires < now) this.#drop(key);
  }

  #drop(key: string): PendingIq | undefined {
    const found = this.#pending.get(key);
    if (!found) return undefined;
    this.#pending.delete(key);
    this.#release(found.sender);
    return found;
  }

  #release(sender: string): void {
    const n = (this.#perSender.get(sender) ?? 1) - 1;
    if (n <= 0) this.#perSender.delete(sender);
    else this.#perSender.set(sender, n);
  }
}

/**
 * Checks an IQ crossing with `rules` against `tracker`. A passing request is not yet remembered:
 * call `tracker.expect` once every other check has passed too.
 */
export function checkIq(iq: Element, rules: IqRules, tracker: IqTracker): IqCheck {
  const type = iq.attrs.type;
  const id = iq.attrs.id;
  const from = iq.attrs.from ?? "";
  const to = iq.attrs.to ?? "";
  if (!id) return { ok: false, reason: "iq-malformed", detail: "no id" };
  const children = payloads(iq);
  if (type === "get" || type === "set") {
    const only = children[0];
    if (children.length !== 1 || !only)
      return { ok: false, reason: "iq-malformed", detail: `${children.length} payloads` };
    const namespace = only.attrs.xmlns ?? "";
    // Cordon's own protocol between the servers' modules and its components never crosses, not
    // even under "any": on the far side the request arrives from a domain this relay claims there,
    // a component the guard module trusts (packages/guard/README.md: the relay is listed among
    // the trusted components), and the module tells a trusted component where any of its users'
    // sessions connected from (<session/>, issue 17) — a peer could ask it of every local user
    // (adv16b). Nothing of it is meant for another domain.
    if (namespace === NS_GUARD) return { ok: false, reason: "iq-namespace", detail: nsDetail(namespace) };
    if (rules.namespaces !== "any" && !rules.namespaces.includes(namespace))
      return { ok: false, reason: "iq-namespace", detail: nsDetail(namespace) };
    return { ok: true, request: { namespace } };
  }
  if (type === "result" || type === "error") {
    const request = tracker.answer(from, to, id);
    if (!request) return { ok: false, reason: "iq-unsolicited" };
    if (type === "result") {
      if (children.length > 1)
        return { ok: false, reason: "iq-malformed", detail: `${children.length} payloads` };
      const ns = children[0]?.attrs.xmlns;
      if (children[0] && ns !== request.namespace)
        return { ok: false, reason: "iq-answer-namespace", detail: nsDetail(ns) };
    }
    return { ok: true, answers: { id: request.id } };
  }
  return { ok: false, reason: "iq-malformed", detail: type === undefined ? "no type" : "invalid type" };
}

/** Every text an IQ payload carries, as the word lists read it (content-check.ts: names included). */
export function iqTexts(iq: Element): string[] {
  return payloads(iq).flatMap(elementTexts);
}
