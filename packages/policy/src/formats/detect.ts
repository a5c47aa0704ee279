// Format detection and dispatch for labels and clearances: XML is dispatched on the root namespace,
// base64 text is decoded to BER, anything else is BER/DER.
import { decodeBerClearance } from "./clearance-ber.js";
import { decodeEssLabel } from "./ess.js";
import { decodeNatoClearance, decodeNatoLabel, NATO_CLEARANCE_NS, NATO_LABEL_NS } from "./stanag4774.js";
import { decodeSpiffyClearance, decodeSpiffyLabel, SPIFFY_NS } from "./spiffy.js";
import type { Clearance } from "../clearance.js";
import { MalformedEncodingError, NoDataError, UnsupportedFormatError } from "../errors.js";
import type { Label } from "../label.js";
import type { PolicyRegistry } from "../registry.js";
import { parseXml } from "../xml/reader.js";
import { textOf } from "../xml/node.js";
import type { XmlNode } from "../xml/node.js";
import { NS_SEC_LABEL_ESS } from "../namespaces.js";

export type InputFormat = "xml" | "ber" | "base64";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const WHITESPACE = /\s/;

function firstSignificant(input: Uint8Array | string): number {
  if (typeof input === "string") {
    // Most texts start with a character that is plainly not white space (\s is ASCII's and
    // Unicode's spaces, all at or below U+0020 or at or above U+00A0).
    const first = input.charCodeAt(0);
    if (first > 0x20 && first < 0xa0) return first;
    const m = /\S/.exec(input);
    return m ? input.charCodeAt(m.index) : -1;
  }
  let i = 0;
  if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) i = 3; // UTF-8 BOM
  while (
    i < input.length &&
    (input[i] === 0x20 || input[i] === 0x09 || input[i] === 0x0a || input[i] === 0x0d)
  )
    i++;
  return i < input.length ? input[i]! : -1;
}

/** Which decoder applies: strings are XML or base64; bytes are XML or BER. */
export function detectFormat(input: Uint8Array | string): InputFormat {
  if (input.length === 0) throw new NoDataError();
  const c = firstSignificant(input);
  if (c === 0x3c) return "xml";
  if (typeof input === "string") return "base64";
  return "ber";
}

/**
 * Strict base64 (RFC 4648 §4), whitespace ignored. A text that is the canonical base64 of its
 * bytes (what Buffer writes: the alphabet, "=" padding, no white space, zero unused bits) needs
 * no other check, and the two native passes (decode, encode back) cost less than the pattern
 * tests — and than a decoder in JS (measured: 3,650 instructions per harbour label's text against
 * 5,900 reading it a character at a time, 12,400 copying it out with TextEncoder first); anything
 * else goes the general way, which decides as before.
 */
export function decodeBase64(text: string): Uint8Array {
  const b = base64Bytes(text);
  return Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.length) : b;
}

/**
 * decodeBase64 for the decoders: the same decisions and bytes, a canonical text's as the `Buffer`
 * that decoded them (a Uint8Array; no second view of them made per label).
 */
function base64Bytes(text: string): Uint8Array {
  if (text.length !== 0) {
    const b = Buffer.from(text, "base64");
    if (b.toString("base64") === text) return b;
  }
  return decodeBase64General(text);
}

function decodeBase64General(text: string): Uint8Array {
  const s = WHITESPACE.test(text) ? text.replace(/\s+/g, "") : text;
  if (s.length === 0) throw new NoDataError();
  if (s.length % 4 !== 0 || !BASE64.test(s)) throw new MalformedEncodingError("Malformed base64");
  const b = Buffer.from(s, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function toText(input: Uint8Array | string): string {
  if (typeof input === "string") return input;
  try {
    return utf8.decode(input);
  } catch {
    throw new MalformedEncodingError("Malformed XML: not UTF-8");
  }
}

function toBytes(input: Uint8Array | string): Uint8Array {
  return typeof input === "string" ? base64Bytes(input) : input;
}

/** Decode a label from an already-parsed XML element (spiffy, STANAG 4774, or XEP-0258 ESS wrapper). */
export function decodeLabelNode(node: XmlNode, registry: PolicyRegistry): Label {
  switch (node.uri) {
    case SPIFFY_NS:
      return decodeSpiffyLabel(node, registry);
    case NATO_LABEL_NS:
      return decodeNatoLabel(node, registry);
    case NS_SEC_LABEL_ESS:
      if (node.local !== "esssecuritylabel") break;
      return decodeEssLabel(base64Bytes(textOf(node)), registry);
  }
  throw new UnsupportedFormatError("Namespace not found");
}

/** Decode a clearance from an already-parsed XML element. */
export function decodeClearanceNode(node: XmlNode, registry: PolicyRegistry): Clearance {
  switch (node.uri) {
    case SPIFFY_NS:
      return decodeSpiffyClearance(node, registry);
    case NATO_CLEARANCE_NS:
      return decodeNatoClearance(node, registry);
  }
  throw new UnsupportedFormatError("Namespace not found");
}

/** Parse a label in any supported form (XML, BER/DER bytes, base64 text). */
export function parseLabelData(input: Uint8Array | string, registry: PolicyRegistry): Label {
  // detectFormat's decision, with text and bytes apart: each branch reads one kind of input's
  // length (a string's, a typed array's), so neither needs a generic property load.
  if (typeof input === "string") {
    if (input.length === 0) throw new NoDataError();
    if (firstSignificant(input) === 0x3c) return decodeLabelNode(parseXml(input), registry);
    return decodeEssLabel(base64Bytes(input), registry);
  }
  const f = detectFormat(input);
  if (f === "xml") return decodeLabelNode(parseXml(toText(input)), registry);
  return decodeEssLabel(toBytes(input), registry);
}

/** Parse a clearance in any supported form (XML, BER/DER bytes, base64 text). */
export function parseClearance(input: Uint8Array | string, registry: PolicyRegistry): Clearance {
  const f = detectFormat(input);
  if (f === "xml") return decodeClearanceNode(parseXml(toText(input)), registry);
  return decodeBerClearance(toBytes(input), registry);
}
