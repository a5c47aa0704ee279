// Message folding: remove (or refuse messages carrying) elements the direction does not let
// through: chat states (XEP-0085 https://xmpp.org/extensions/xep-0085.html), delivery receipts
// (XEP-0184 https://xmpp.org/extensions/xep-0184.html) and any configured element, e.g. XHTML-IM
// (XEP-0071) or OOB URLs (XEP-0066). Works on the relay's own copy of the stanza, in place.
import { isElement, NS_CLIENT, NS_SEC_LABEL, NS_SID, type Element } from "@cordon/component";
import type { DirectionRules, ElementRule } from "./peering.js";

export const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";
export const NS_RECEIPTS = "urn:xmpp:receipts";
/** XEP-0333 chat markers: read and delivery acknowledgements like receipts, governed by the same rule. */
export const NS_MARKERS = "urn:xmpp:chat-markers:0";

/** Children that carry nothing for the recipient on their own: a message left with only these is dropped. */
const INERT = new Set([NS_SEC_LABEL, NS_SID, "urn:xmpp:hints"]);
/** The namespaces a stanza's own children (body, subject, thread) may be written in: one namespace for the checks. */
const STANZA_NS = new Set(["", NS_CLIENT, "jabber:server", "jabber:component:accept"]);

/** Whether an element is in the stanza's namespace: no xmlns of its own, or one of the stanza namespaces. */
export function inStanzaNs(el: Element): boolean {
  return STANZA_NS.has(el.attrs.xmlns ?? "");
}

export type FoldRefusal = "chat-state-blocked" | "receipt-blocked" | "element-blocked";

export type FoldResult =
  | { outcome: "ok"; stripped: string[] }
  | { outcome: "empty"; stripped: string[] }
  | { outcome: "blocked"; reason: FoldRefusal; ns: string };

/** The compiled element rules of a direction: namespace → rules, for one lookup per child. */
export interface FoldingRules {
  byNs: ReadonlyMap<string, readonly (ElementRule & { reason: FoldRefusal })[]>;
}

export function compileFolding(
  rules: Pick<DirectionRules, "chatStates" | "receipts" | "elements">,
): FoldingRules {
  const byNs = new Map<string, (ElementRule & { reason: FoldRefusal })[]>();
  const add = (rule: ElementRule, reason: FoldRefusal) => {
    // A rule about the stanza namespace (e.g. <thread/>) applies however the element writes it.
    const ns = STANZA_NS.has(rule.ns) ? "" : rule.ns;
    const list = byNs.get(ns) ?? [];
    list.push({ ...rule, reason });
    byNs.set(ns, list);
  };
  if (rules.chatStates !== "pass") add({ ns: NS_CHATSTATES, action: rules.chatStates }, "chat-state-blocked");
  if (rules.receipts !== "pass") {
    add({ ns: NS_RECEIPTS, action: rules.receipts }, "receipt-blocked");
    add({ ns: NS_MARKERS, action: rules.receipts }, "receipt-blocked");
  }
  for (const e of rules.elements) add(e, "element-blocked");
  return { byNs };
}

/** A child's namespace; "" when it is the stanza's (body, subject, thread), written or inherited. */
function childNs(el: Element): string {
  return inStanzaNs(el) ? "" : (el.attrs.xmlns ?? "");
}

/** Applies the rules to the message's direct children (mutating it). */
export function foldMessage(message: Element, folding: FoldingRules): FoldResult {
  if (folding.byNs.size === 0) return { outcome: "ok", stripped: [] };
  const stripped: string[] = [];
  const kept: typeof message.children = [];
  for (const child of message.children) {
    if (!isElement(child)) {
      kept.push(child);
      continue;
    }
    const ns = childNs(child);
    const rule = folding.byNs.get(ns)?.find((r) => !r.name || r.name === child.name);
    if (!rule) {
      kept.push(child);
      continue;
    }
    if (rule.action === "block") return { outcome: "blocked", reason: rule.reason, ns: rule.ns };
    stripped.push(rule.ns);
  }
  if (stripped.length === 0) return { outcome: "ok", stripped };
  message.children = kept;
  return { outcome: isEmptyMessage(message) ? "empty" : "ok", stripped };
}

/** True when nothing but inert children (labels, ids, hints, thread) is left. */
export function isEmptyMessage(message: Element): boolean {
  for (const child of message.children) {
    if (!isElement(child)) continue;
    const ns = childNs(child);
    if (STANZA_NS.has(ns)) {
      if (child.name !== "thread") return false;
      continue;
    }
    if (!INERT.has(ns)) return false;
  }
  return true;
}
