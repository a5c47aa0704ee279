// Presence folding: presence crosses with only the configured parts (RFC 6121 §4.7
// https://www.rfc-editor.org/rfc/rfc6121#section-4.7: show, status, priority; extensions such as
// entity capabilities XEP-0115, avatar hashes XEP-0153/0084, nicknames XEP-0172, idle XEP-0319,
// MUC XEP-0045), or not at all. Availability (the `type`) is always kept, and so is the `<error/>`
// of a presence error. XEP-0258 §"Use in presence": presence must not carry a label, so it is removed.
import { isElement, NS_SEC_LABEL, type Element } from "@cordon/component";
import type { DirectionRules, PresencePart } from "./peering.js";
import { reshape, type Shape } from "./shape.js";

const TEXT: Shape = { text: true };
const REASON = { reason: TEXT };
/**
 * The known shape of each part folding keeps, by namespace and name (RFC 6121 §4.7.2, XEP-0115 §4,
 * XEP-0153 §3, XEP-0084 §4.2, XEP-0172 §4, XEP-0319 §2, XEP-0012 §5, XEP-0203 §3, XEP-0045
 * §7.2 and §7.2.3): a kept part crosses rebuilt to it, so nothing nested inside crosses with it.
 * The `from` of a delay and the `url` of avatar metadata are left out (addresses and links the
 * sender chose).
 */
const SHAPES: Readonly<Record<string, Shape>> = {
  " show": { text: true, pattern: /^(away|chat|dnd|xa)$/ },
  " status": { attrs: ["xml:lang"], text: true },
  " priority": { text: true, pattern: /^[+-]?\d{1,3}$/ },
  "http://jabber.org/protocol/caps c": { attrs: ["hash", "node", "ver", "ext"] },
  "vcard-temp:x:update x": { children: { photo: TEXT } },
  "urn:xmpp:avatar:metadata metadata": {
    children: { info: { attrs: ["bytes", "height", "id", "type", "width"] } },
  },
  "http://jabber.org/protocol/nick nick": TEXT,
  "urn:xmpp:idle:1 idle": { attrs: ["since"] },
  "jabber:iq:last query": { attrs: ["seconds"] },
  "urn:xmpp:delay delay": { attrs: ["stamp"] },
  "http://jabber.org/protocol/muc x": {
    children: { history: { attrs: ["maxchars", "maxstanzas", "seconds", "since"] }, password: TEXT },
  },
  "http://jabber.org/protocol/muc#user x": {
    children: {
      item: {
        attrs: ["affiliation", "role", "jid", "nick"],
        children: { actor: { attrs: ["jid", "nick"] }, reason: TEXT },
      },
      status: { attrs: ["code"] },
      destroy: { attrs: ["jid"], children: REASON },
    },
  },
};

/** A kept part rebuilt to its known shape; undefined when it has none (then it does not cross). */
function shaped(child: Element): Element | undefined {
  const ns = child.attrs.xmlns;
  const key = `${ns === undefined || STANZA_NS.has(ns) ? "" : ns} ${child.name}`;
  const shape = SHAPES[key];
  return shape ? reshape(child, shape) : undefined;
}

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
  const kept: Element[] = [];
  for (const c of presence.children) {
    if (!isElement(c) || c.attrs.xmlns === NS_SEC_LABEL) continue;
    if (rules.mode === "full") {
      kept.push(c);
      continue;
    }
    const part = presencePart(c);
    if (part === "error") {
      if (isError) kept.push(c);
      continue;
    }
    if (part === undefined || !keep.has(part)) continue;
    const rebuilt = shaped(c);
    if (!rebuilt) continue;
    rebuilt.parent = presence;
    kept.push(rebuilt);
  }
  presence.children = kept;
  return { outcome: "ok", removed: before - kept.length };
}
