// Presence folding: presence crosses with only the configured parts (RFC 6121 §4.7
// https://www.rfc-editor.org/rfc/rfc6121#section-4.7: show, status, priority; extensions such as
// entity capabilities XEP-0115, avatar hashes XEP-0153/0084, nicknames XEP-0172, idle XEP-0319,
// MUC XEP-0045), or not at all. Availability (the `type`) is always kept, and so is the `<error/>`
// of a presence error. XEP-0258 §"Use in presence": presence must not carry a label, so it is removed.
import { isElement, NS_SEC_LABEL, type Element } from "@cordon/component";
import type { DirectionRules, PresencePart } from "./peering.js";

const PART_BY_NS: Readonly<Record<string, PresencePart>> = {
  "http://jabber.org/protocol/caps": "caps",
  "vcard-temp:x:update": "avatar",
  "urn:xmpp:avatar:metadata": "avatar",
  "http://jabber.org/protocol/nick": "nick",
  "urn:xmpp:idle:1": "idle",
  "jabber:iq:last": "idle",
  "urn:xmpp:delay": "idle",
  "http://jabber.org/protocol/muc": "muc",
  "http://jabber.org/protocol/muc#user": "muc",
};

const STANZA_NS = new Set(["jabber:client", "jabber:server", "jabber:component:accept"]);

/** Which part a presence child is, "error" for the error of a presence error, undefined for anything else. */
export function presencePart(child: Element): PresencePart | "error" | undefined {
  const ns = child.attrs.xmlns;
  if (ns === undefined || STANZA_NS.has(ns)) {
    if (child.name === "show" || child.name === "status" || child.name === "priority") return child.name;
    if (child.name === "error") return "error";
    return undefined;
  }
  return PART_BY_NS[ns];
}

export type PresenceFoldResult = { outcome: "ok"; removed: number } | { outcome: "blocked" };

/** Folds the presence in place. */
export function foldPresence(presence: Element, rules: DirectionRules["presence"]): PresenceFoldResult {
  if (rules.mode === "none") return { outcome: "blocked" };
  const keep = new Set<string>(rules.keep);
  // Only a presence error has an <error/> to keep (RFC 6120 §8.3): elsewhere it is a payload
  // like any other, and would carry whatever it holds past the fold.
  const isError = presence.attrs.type === "error";
  const before = presence.children.length;
  presence.children = presence.children.filter((c) => {
    if (!isElement(c)) return false;
    if (c.attrs.xmlns === NS_SEC_LABEL) return false;
    if (rules.mode === "full") return true;
    const part = presencePart(c);
    return part === "error" ? isError : part !== undefined && keep.has(part);
  });
  return { outcome: "ok", removed: before - presence.children.length };
}
