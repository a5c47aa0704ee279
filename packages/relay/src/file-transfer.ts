// File transfer, as one class the relay recognises wherever it sits in a stanza (any depth, any
// stanza type but an error, whose payload never crosses):
// - negotiations: in-band bytestreams (XEP-0047), Jingle (XEP-0166, with Jingle Message Initiation
//   XEP-0353), stream initiation (XEP-0096) and the SOCKS5 bytestreams they use (XEP-0065);
// - in-band data (the `ibb` rule): bits of binary (XEP-0231 `urn:xmpp:bob`), avatar data (XEP-0084
//   `urn:xmpp:avatar:data`, e.g. in a pubsub event), `data:` URIs (RFC 2397,
//   e.g. an XHTML-IM image), and a vCard's embedded files — PHOTO, LOGO, SOUND (XEP-0054 §3,
//   XEP-0153: always stripped, never refused, so vCards still cross without them);
// - out-of-band sharing (the `oob` rule): OOB URLs (XEP-0066, `jabber:x:oob` and `jabber:iq:oob`),
//   stateless file sharing (XEP-0447 `urn:xmpp:sfs:0`, `urn:xmpp:esfs:0`), media sharing (XEP-0385
//   SIMS, inside an XEP-0372 reference), HTTP upload slot requests (XEP-0363) and `aesgcm://` links
//   (XEP-0454) in any text.
// With `strip`, a message's top-level children holding only strippable sharing are removed (and
// the audit lists each kind removed); anything else of a blocked kind refuses the stanza. What the
// relay cannot recognise as file transfer — a plain https link in a body — crosses as text.
import { isElement, type Element, type XmlNode } from "@cordon/component";
import { copyElement } from "./copy.js";
import type { DirectionRules } from "./peering.js";

export const NS_IBB = "http://jabber.org/protocol/ibb";
export const NS_JINGLE = "urn:xmpp:jingle:1";
export const NS_JINGLE_MESSAGE = ["urn:xmpp:jingle-message:0", "urn:xmpp:jingle-message:1"];
export const NS_SI = "http://jabber.org/protocol/si";
export const NS_BYTESTREAMS = "http://jabber.org/protocol/bytestreams";
export const NS_OOB_X = "jabber:x:oob";
export const NS_OOB_IQ = "jabber:iq:oob";
export const NS_BOB = "urn:xmpp:bob";
/** XEP-0084 §4.1 avatar data: the image itself, base64 (found in review, advrelay: it crossed). */
export const NS_AVATAR_DATA = "urn:xmpp:avatar:data";
export const NS_SFS = ["urn:xmpp:sfs:0", "urn:xmpp:esfs:0"];
export const NS_SIMS = "urn:xmpp:sims:1";
export const NS_HTTP_UPLOAD = [
  "urn:xmpp:http:upload:0",
  "urn:xmpp:http:upload",
  "eu:siacs:conversations:http:upload",
];
export const NS_VCARD = "vcard-temp";

export type TransferKind =
  | "ibb"
  | "jingle"
  | "si"
  | "oob"
  | "bob"
  | "data-uri"
  | "vcard-photo"
  | "vcard-binary"
  | "avatar-data"
  | "sfs"
  | "sims"
  | "upload"
  | "aesgcm";

export type TransferResult =
  { blocked: false; stripped: TransferKind[] } | { blocked: true; kind: TransferKind };

/** The transfer mechanism a namespace belongs to, when it is one. */
export function transferKind(ns: string | undefined): TransferKind | undefined {
  if (ns === undefined) return undefined;
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
    case NS_BOB:
      return "bob";
    case NS_AVATAR_DATA:
      return "avatar-data";
    case NS_SIMS:
      return "sims";
  }
  if (NS_JINGLE_MESSAGE.includes(ns)) return "jingle";
  if (NS_SFS.includes(ns)) return "sfs";
  if (NS_HTTP_UPLOAD.includes(ns)) return "upload";
  return undefined;
}

type Rules = DirectionRules["fileTransfer"];

/** The rule that governs a kind: in-band data follows `ibb`, out-of-band sharing `oob`. */
function actionOf(kind: TransferKind, rules: Rules): "pass" | "strip" | "block" {
  switch (kind) {
    case "ibb":
    case "bob":
    case "data-uri":
    case "vcard-photo":
    case "vcard-binary":
    case "avatar-data":
      return rules.ibb;
    case "jingle":
      return rules.jingle;
    case "si":
      return rules.si;
    default:
      return rules.oob;
  }
}

const AESGCM = /aesgcm:\/\//i;
const DATA_URI = /^\s*data:/i;

/** Every transfer kind in `el` and below (a vCard's embedded files aside: see withoutVcardBinaries). */
function kindsIn(el: Element, rules: Rules, found: Set<TransferKind>): void {
  const kind = transferKind(el.attrs.xmlns);
  // SOCKS5 bytestreams serve Jingle (s5b transport) as well as SI: blocked when either is.
  if (el.attrs.xmlns === NS_BYTESTREAMS && rules.jingle !== "pass") found.add("jingle");
  if (kind) found.add(kind);
  // for…in: the own attributes in Object.entries' order (a plain object), without its arrays.
  for (const name in el.attrs) {
    const value = el.attrs[name];
    if (value === undefined || name === "xmlns" || name.startsWith("xmlns:")) continue;
    if (DATA_URI.test(value)) found.add("data-uri");
    if (AESGCM.test(value)) found.add("aesgcm");
  }
  for (const c of el.children) {
    if (isElement(c)) kindsIn(c, rules, found);
    else if (AESGCM.test(c)) found.add("aesgcm");
  }
}

/**
 * The parts of a vCard (XEP-0054 §3) that embed a file — base64 in BINVAL, or a URI (a `data:`
 * one too) in EXTVAL: PHOTO (XEP-0153 avatars), and LOGO and SOUND, which have the same form
 * (found in review, advrelay: they crossed whole while PHOTO was stripped).
 */
const VCARD_BINARIES: Readonly<Record<string, TransferKind>> = {
  PHOTO: "vcard-photo",
  LOGO: "vcard-binary",
  SOUND: "vcard-binary",
};

/**
 * `el` without the embedded files of every vCard (XEP-0054) in it; adds the kinds removed to
 * `removed`. Copy on write: `el` itself when nothing in it is removed (no new list per element
 * walked), else a copy (copy.ts) with a new child list, and so for each element on the path to
 * one removed. The elements below the relay's copy are shared with the stanza the connection
 * handed over, which is never changed (found in review, adv42: the walk removed the files from
 * the original's vCard as well).
 */
export function withoutVcardBinaries(el: Element, removed: Set<TransferKind>, inVcard = false): Element {
  const vcard = inVcard || el.attrs.xmlns === NS_VCARD;
  const children = el.children;
  let kept: XmlNode[] | undefined;
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!;
    if (!isElement(c)) {
      kept?.push(c);
      continue;
    }
    const ns = c.attrs.xmlns;
    const kind = VCARD_BINARIES[c.name];
    if (vcard && kind && (ns === undefined || ns === NS_VCARD)) {
      removed.add(kind);
      kept ??= children.slice(0, i);
      continue;
    }
    const walked = withoutVcardBinaries(c, removed, vcard && (ns === undefined || ns === NS_VCARD));
    if (walked !== c) kept ??= children.slice(0, i);
    kept?.push(walked);
  }
  if (!kept) return el;
  const copy = copyElement(el);
  copy.children = kept;
  // Namespaces resolve as in the original (ltx getNS walks up through `parent`).
  copy.parent = el.parent;
  return copy;
}

/**
 * Checks (and, where the rules strip, edits) the relay's copy of a stanza (copy.ts): only its own
 * child list is replaced, never an element below it. Errors are never checked here.
 */
export function checkFileTransfer(stanza: Element, rules: Rules): TransferResult {
  if (stanza.attrs.type === "error") return { blocked: false, stripped: [] };
  const stripped = new Set<TransferKind>();
  // The top-level list is the copy's own; the elements below it are the original's.
  if (rules.ibb !== "pass") stanza.children = withoutVcardBinaries(stanza, stripped).children;
  const kept: typeof stanza.children = [];
  for (const child of stanza.children) {
    if (!isElement(child)) {
      kept.push(child);
      continue;
    }
    const found = new Set<TransferKind>();
    kindsIn(child, rules, found);
    const denied = [...found].filter((k) => actionOf(k, rules) !== "pass");
    if (denied.length === 0) {
      kept.push(child);
      continue;
    }
    // Only a message's sharing element can go without taking the message's text with it: never
    // its body or subject (an aesgcm:// link there refuses the message).
    const strippable =
      stanza.name === "message" &&
      !isText(child) &&
      denied.every((k) => actionOf(k, rules) === "strip" && k !== "aesgcm");
    if (!strippable) return { blocked: true, kind: denied[0]! };
    for (const k of denied) stripped.add(k);
  }
  if (stripped.size > 0) stanza.children = kept;
  return { blocked: false, stripped: [...stripped] };
}

const STANZA_NS = new Set([undefined, "jabber:client", "jabber:server", "jabber:component:accept"]);

function isText(child: Element): boolean {
  return STANZA_NS.has(child.attrs.xmlns) && (child.name === "body" || child.name === "subject");
}
