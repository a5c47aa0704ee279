// File-transfer controls: in-band bytestreams (XEP-0047 https://xmpp.org/extensions/xep-0047.html),
// Jingle (XEP-0166 https://xmpp.org/extensions/xep-0166.html, with Jingle Message Initiation,
// XEP-0353), stream initiation (XEP-0096 https://xmpp.org/extensions/xep-0096.html, with the
// SOCKS5 bytestreams it negotiates, XEP-0065) and out-of-band URLs (XEP-0066
// https://xmpp.org/extensions/xep-0066.html). IQ negotiations are refused; OOB URLs in messages may
// instead be stripped.
import { isElement, type Element } from "@cordon/component";
import type { DirectionRules } from "./peering.js";

export const NS_IBB = "http://jabber.org/protocol/ibb";
export const NS_JINGLE = "urn:xmpp:jingle:1";
export const NS_JINGLE_MESSAGE = ["urn:xmpp:jingle-message:0", "urn:xmpp:jingle-message:1"];
export const NS_SI = "http://jabber.org/protocol/si";
export const NS_BYTESTREAMS = "http://jabber.org/protocol/bytestreams";
export const NS_OOB_X = "jabber:x:oob";
export const NS_OOB_IQ = "jabber:iq:oob";

export type TransferKind = "ibb" | "jingle" | "si" | "oob";

export type TransferResult =
  { blocked: false; stripped: TransferKind[] } | { blocked: true; kind: TransferKind };

/** The transfer mechanism a namespace belongs to, when it is one. */
export function transferKind(ns: string | undefined): TransferKind | undefined {
  switch (ns) {
    case NS_IBB:
      return "ibb";
    case NS_JINGLE:
      return "jingle";
    case NS_SI:
    case NS_BYTESTREAMS:
      return "si";
    case NS_OOB_X:
    case NS_OOB_IQ:
      return "oob";
    default:
      return ns !== undefined && NS_JINGLE_MESSAGE.includes(ns) ? "jingle" : undefined;
  }
}

function isBlocked(
  kind: TransferKind,
  rules: DirectionRules["fileTransfer"],
  ns: string | undefined,
): boolean {
  // SOCKS5 bytestreams serve Jingle (s5b transport) as well as SI: blocked when either is.
  if (ns === NS_BYTESTREAMS) return rules.si === "block" || rules.jingle === "block";
  const action = rules[kind];
  // "strip" applies to OOB URLs in messages only; anything else cannot be stripped, so it is refused.
  return action !== "pass";
}

/** Checks (and, for OOB URLs in messages set to strip, edits) a stanza. Errors and IQ results are never refused here. */
export function checkFileTransfer(stanza: Element, rules: DirectionRules["fileTransfer"]): TransferResult {
  const type = stanza.attrs.type;
  if (type === "error" || type === "result") return { blocked: false, stripped: [] };
  if (stanza.name === "presence") return { blocked: false, stripped: [] };
  const stripped: TransferKind[] = [];
  let strip = false;
  for (const child of stanza.children) {
    if (!isElement(child)) continue;
    const ns = child.attrs.xmlns;
    const kind = transferKind(ns);
    if (!kind) continue;
    if (stanza.name === "message" && kind === "oob" && rules.oob === "strip") {
      strip = true;
      stripped.push(kind);
      continue;
    }
    if (isBlocked(kind, rules, ns)) return { blocked: true, kind };
  }
  if (strip) stanza.children = stanza.children.filter((c) => !(isElement(c) && c.attrs.xmlns === NS_OOB_X));
  return { blocked: false, stripped };
}
