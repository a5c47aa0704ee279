// The verdict-cache rule (issue 17, performance): which of the guard's verdicts a server module may
// reuse, for a few seconds, for an identical question — so that most messages of a conversation
// need no round trip while Cordon still makes every decision. The module keeps a verdict only when
// the guard marks it cacheable here, keyed on everything the decision depends on: origin, sender
// (full JID) and its session's address, recipient (the address asked about) and the exact set of
// its sessions (resource, address, labels in caps), the message's type and xml:lang, and its shape
// — each top-level child's name, namespace and attributes, the label's exact bytes or none (the
// modules compute the same key: deploy/prosody, deploy/ejabberd). Only the text of a body or thread,
// the message's id and an XEP-0359 origin-id's id (in the key as present or absent: most clients
// give each message its own) may differ between two messages with one key, and nothing decided
// reads them.
//
// Cacheable (all of):
// - a delivered one-to-one message, not an error, not a stored message replayed, not an archive
//   result, no sent carbons decided with it, at least one recipient session asked about;
// - its attributes only from/to/id/type/xml:lang, its type chat, normal or headline;
// - each top-level child in CACHEABLE_CHILDREN (it cannot carry labelled content: a body, a
//   thread, an XEP-0085 chat state, an XEP-0184 request, an XEP-0359 origin-id — with only the
//   attributes listed, and no element below it) or the message's one XEP-0258 label;
// - the delivered form is the message with its label replaced by one label of the guard's (the
//   compact verdict, protocol.ts): the module applies it to the next message the same way;
// - when a session gets FLOT, the FLOT form is exactly the delivered form with each body's text
//   prefixed by one fixed text (the policy's marking and a line break, @cordon/rules flot.ts) —
//   checked here by rebuilding it that way and comparing (the guard's own FLOT renderer decides).
// Refusals and drops are never cached (each refused message asks again: the refusal says no more
// than it does today, and a raised clearance takes effect at once).
//
// Invalidation: the guard's epoch (CacheEpoch) changes with every clearance notification from the
// store (and its connection state), every policy change (a reload), and each start of the guard
// (a configuration change restarts it); the guard tells the served servers the new epoch at once
// (an IQ on its stream, and again each time it connects), every verdict carries the epoch it was
// decided in, and a module keeps only verdicts of the epoch it was last told, drops everything it
// holds when told another, and when the guard's link goes down.
import { randomBytes } from "node:crypto";
import { isElement, xml, NS_SEC_LABEL, type Element } from "@cordon/component";
import { flotText } from "@cordon/rules";
import type { CheckRequest, Verdict } from "./protocol.js";

const NS_CHAT_STATES = "http://jabber.org/protocol/chatstates";
const NS_RECEIPTS = "urn:xmpp:receipts";
const NS_SID = "urn:xmpp:sid:0";
const NS_CLIENT = "jabber:client";

/** Top-level children that cannot carry labelled content, by namespace and name: the attributes each may have. */
export const CACHEABLE_CHILDREN: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>> = new Map([
  [
    NS_CLIENT,
    new Map([
      ["body", ["xml:lang"]],
      ["thread", ["parent"]],
    ]),
  ],
  [
    NS_CHAT_STATES,
    new Map(["active", "composing", "paused", "inactive", "gone"].map((n) => [n, [] as readonly string[]])),
  ],
  [NS_RECEIPTS, new Map([["request", []]])],
  [NS_SID, new Map([["origin-id", ["id"]]])],
]);

const MESSAGE_ATTRS = new Set(["xmlns", "from", "to", "id", "type", "xml:lang"]);
const CACHEABLE_TYPES = new Set([undefined, "chat", "normal", "headline"]);

const isOwnLabel = (c: Element): boolean => c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL;

/** Whether `message` has the shape of a cacheable message (its label aside). */
export function cacheableShape(message: Element): boolean {
  if (message.name !== "message" || !CACHEABLE_TYPES.has(message.attrs.type)) return false;
  if (Object.keys(message.attrs).some((k) => !MESSAGE_ATTRS.has(k))) return false;
  let labels = 0;
  for (const c of message.children) {
    if (!isElement(c)) continue;
    if (isOwnLabel(c)) {
      labels++;
      continue;
    }
    const allowed = CACHEABLE_CHILDREN.get(c.attrs.xmlns ?? NS_CLIENT)?.get(c.name);
    if (!allowed) return false;
    if (Object.keys(c.attrs).some((k) => k !== "xmlns" && !allowed.includes(k))) return false;
    if (c.children.some(isElement)) return false;
  }
  return labels <= 1;
}

/**
 * What the module may reuse of `verdict` for an identical question: `{ flot }` — the text each body
 * of the FLOT form starts with, "" when no session gets FLOT — or undefined when it is not cacheable.
 * `labels`: the labels the compact verdict carries (protocol.ts replacedLabels); `marking`: the
 * policy's marking of the decided label, as the FLOT form was rendered with it.
 */
export function cacheTemplate(
  request: CheckRequest,
  verdict: Verdict,
  labels: readonly Element[] | undefined,
  marking: string | undefined,
): { readonly flot: string } | undefined {
  if (verdict.action !== "deliver" || labels?.length !== 1) return undefined;
  if (request.offline === true || request.archive === true || request.copies !== undefined) return undefined;
  if (request.sessions.length === 0 || verdict.sessions?.length !== request.sessions.length) return undefined;
  if (!cacheableShape(request.message)) return undefined;
  if (!verdict.flot) return { flot: "" };
  if (marking === undefined) return undefined;
  const prefix = flotText(marking, "");
  // Rebuild the FLOT form the module's way — each body of the delivered form, in the stanza's
  // namespace, with `prefix` before its text — and compare with the one the guard rendered.
  const rebuilt = xml("x");
  rebuilt.children = verdict.message.children.map((c) =>
    isElement(c) && c.name === "body" && (c.attrs.xmlns === undefined || c.attrs.xmlns === NS_CLIENT)
      ? xml("body", { ...c.attrs }, prefix + c.getText())
      : c,
  );
  const expected = xml("x");
  expected.children = verdict.flot.children;
  if (rebuilt.toString() !== expected.toString()) return undefined;
  return { flot: prefix };
}

/**
 * The guard's cache epoch: a random start (each start of the guard is a new epoch) and a counter
 * bumped by every change a cached verdict may depend on. Listeners hear each new epoch at once.
 */
export class CacheEpoch {
  readonly #start = randomBytes(6).toString("hex");
  #count = 0;
  readonly #listeners = new Set<(epoch: string) => void>();

  get current(): string {
    return `${this.#start}.${this.#count}`;
  }

  bump(): void {
    this.#count++;
    const epoch = this.current;
    for (const listener of [...this.#listeners]) listener(epoch);
  }

  onChange(listener: (epoch: string) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}
