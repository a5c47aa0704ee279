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

// The forms of the values the XEPs define (found in review, advrelay: any text crossed in them).
const COUNT = /^\d{1,10}$/;
/** XEP-0082 DateTime. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** A SHA-1 as hex (XEP-0153 §4.1, XEP-0084 §4.2 `id`). */
const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
/** XEP-0115 §5.1 `ver`: a base64 digest (SHA-1 to SHA-512), or a legacy version token. */
const CAPS_VER = /^[A-Za-z0-9+/=._-]{1,88}$/;
/** XEP-0115 `hash`: an IANA hash function name (sha-1, sha-256...). */
const HASH_NAME = /^[a-z0-9-]{1,20}$/;
/** XEP-0115 legacy `ext`: space-separated tokens. */
const CAPS_EXT = /^[A-Za-z0-9._-]{1,64}( [A-Za-z0-9._-]{1,64}){0,15}$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i;
/**
 * The known shape of each part folding keeps, by namespace and name (RFC 6121 §4.7.2, XEP-0115 §4,
 * XEP-0153 §3, XEP-0084 §4.2, XEP-0172 §4, XEP-0319 §2, XEP-0012 §5, XEP-0203 §3, XEP-0045
 * §7.2 and §7.2.3): a kept part crosses rebuilt to it, so nothing nested inside crosses with it.
 * The `from` of a delay and the `url` of avatar metadata are left out (addresses and links the
 * sender chose); a number, date, enumeration or hash crosses only in the form its XEP defines.
 */
const SHAPES: Readonly<Record<string, Shape>> = {
  " show": { text: true, pattern: /^(away|chat|dnd|xa)$/ },
  " status": { attrs: ["xml:lang"], text: true },
  " priority": { text: true, pattern: /^[+-]?\d{1,3}$/ },
  "http://jabber.org/protocol/caps c": {
    attrs: ["hash", "node", "ver", "ext"],
    values: { hash: HASH_NAME, ver: CAPS_VER, ext: CAPS_EXT },
  },
  // XEP-0153 §4.1: the photo's SHA-1 as hex, or empty (no photo).
  "vcard-temp:x:update x": { children: { photo: { text: true, pattern: /^([0-9a-fA-F]{40})?$/ } } },
  "urn:xmpp:avatar:metadata metadata": {
    children: {
      info: {
        attrs: ["bytes", "height", "id", "type", "width"],
        values: { bytes: COUNT, height: COUNT, id: SHA1_HEX, type: MIME, width: COUNT },
      },
    },
  },
  "http://jabber.org/protocol/nick nick": TEXT,
  "urn:xmpp:idle:1 idle": { attrs: ["since"], values: { since: DATETIME } },
  "jabber:iq:last query": { attrs: ["seconds"], values: { seconds: COUNT } },
  "urn:xmpp:delay delay": { attrs: ["stamp"], values: { stamp: DATETIME } },
  "http://jabber.org/protocol/muc x": {
    children: {
      history: {
        attrs: ["maxchars", "maxstanzas", "seconds", "since"],
        values: { maxchars: COUNT, maxstanzas: COUNT, seconds: COUNT, since: DATETIME },
      },
      password: TEXT,
    },
  },
  "http://jabber.org/protocol/muc#user x": {
    children: {
      item: {
        attrs: ["affiliation", "role", "jid", "nick"],
        values: {
          affiliation: /^(admin|member|none|outcast|owner)$/,
          role: /^(moderator|none|participant|visitor)$/,
        },
        children: { actor: { attrs: ["jid", "nick"] }, reason: TEXT },
      },
      status: { attrs: ["code"], values: { code: /^\d{3}$/ } },
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
