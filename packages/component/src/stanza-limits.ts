// How much one stanza may weigh, coming in and going out. A server closes a component's stream on
// a stanza over its limit (Prosody's mod_component 512 KiB, ejabberd_service `max_stanza_size`:
// docs/servers.md §2) and with it every room the component serves. A sender-chosen string the
// server hands us escaped (`>` as `&gt;`) grows again when we copy it, so every piece of a stanza
// that a reply may copy is bounded on input, in the bytes it would take once we serialise it, and
// every stanza we write is checked against `maxStanzaBytes` before it reaches the socket.
// All bounds derive from the one setting `maxStanzaBytes` (RFC 6120 §13.12: a server may bound
// stanza size; the component must stay under it).
import type { Element } from "./xml.js";

/** The default outgoing bound: half of the 512 KiB both servers accept from a component. */
export const DEFAULT_MAX_STANZA_BYTES = 262_144;
/** The smallest `maxStanzaBytes` accepted: below it, real clients' stanzas would be refused. */
export const MIN_MAX_STANZA_BYTES = 16_384;

/** The part of an incoming stanza over its bound (the name used in logs, metrics and error texts). */
export type StanzaPart = "stanza" | "depth" | "id" | "resource" | "body" | "subject" | "status" | "reason";

/**
 * How deep elements may nest in an incoming stanza. The deepest stanzas clients send are a few
 * levels (an archived carbon of a MUC invitation: message/result/forwarded/message/x/invite/reason
 * is 7; XHTML-IM spans add a few more); every walk over a stanza (serialising it, looking for labels
 * or hidden content) recurses, and a stanza nested thousands deep exhausts the call stack. Checked
 * first, without recursion.
 */
export const MAX_STANZA_DEPTH = 64;

/** Every bound, in UTF-8 bytes of the serialised (escaped) form. */
export interface StanzaLimits {
  /** Largest stanza written to the server (the whole serialisation). */
  readonly maxStanzaBytes: number;
  /** Largest incoming stanza, as we would serialise it: half the outgoing bound, room for what we add. */
  readonly stanza: number;
  /** Deepest nesting of elements in an incoming stanza (the stanza itself is depth 1). */
  readonly depth: number;
  /** Stanza `id` (copied into every reply): 1/256, 1 KiB by default (UUIDs are 36). */
  readonly id: number;
  /** Resourcepart of `to` (a MUC nick, copied into every presence and message of its occupant). */
  readonly resource: number;
  /** A message's `<body/>`: 1/4. */
  readonly body: number;
  /** A message's `<subject/>` (a room subject is kept and sent at every join): 1/16. */
  readonly subject: number;
  /** A presence `<status/>` (kept per occupant, broadcast with every presence): 1/64. */
  readonly status: number;
  /** Any `<reason/>` (MUC kick, ban, invite, decline, destroy): 1/64. */
  readonly reason: number;
}

/** The bounds derived from one outgoing limit (default 256 KiB). */
export function stanzaLimits(maxStanzaBytes: number = DEFAULT_MAX_STANZA_BYTES): StanzaLimits {
  if (!Number.isSafeInteger(maxStanzaBytes) || maxStanzaBytes < MIN_MAX_STANZA_BYTES)
    throw new RangeError(`maxStanzaBytes must be an integer of at least ${MIN_MAX_STANZA_BYTES}`);
  const part = (divisor: number, floor: number) => Math.max(floor, Math.floor(maxStanzaBytes / divisor));
  return {
    maxStanzaBytes,
    stanza: Math.floor(maxStanzaBytes / 2),
    depth: MAX_STANZA_DEPTH,
    id: part(256, 512),
    resource: part(256, 512),
    body: part(4, 4096),
    subject: part(16, 1024),
    status: part(64, 1024),
    reason: part(64, 1024),
  };
}

/** What escaping adds to each character it replaces (XML 1.0 §2.4, §3.1; `&#10;` for controls). */
const GROWTH: Record<string, number> = { "&": 4, "<": 3, ">": 3, '"': 5, "'": 5, "\t": 4, "\n": 4, "\r": 4 };
const ATTRIBUTE_ESCAPED = /[&<>"'\t\n\r]/g;
const TEXT_ESCAPED = /[&<>\r]/g;

/**
 * UTF-8 bytes of `text` plus what `escaped` characters grow by (native length, one regex scan),
 * counted only until past `limit` (a 140,000-`>` id is 140,000 matches to count for nothing).
 */
function escapedBytes(text: string, escaped: RegExp, limit = Infinity): number {
  let bytes = Buffer.byteLength(text, "utf8");
  if (bytes > limit) return bytes;
  escaped.lastIndex = 0;
  for (let m = escaped.exec(text); m !== null; m = escaped.exec(text)) {
    bytes += GROWTH[m[0]] as number;
    if (bytes > limit) return bytes;
  }
  return bytes;
}

/**
 * UTF-8 bytes of `text` once escaped as an attribute value (XML 1.0 §3.1: `&` 5, `<` `>` 4, quotes
 * 6, tab and line ends as character references): the larger escaping, an upper bound for both.
 */
export function serialisedBytes(text: string): number {
  return escapedBytes(text, ATTRIBUTE_ESCAPED);
}

/** UTF-8 bytes of `text` once escaped as character data (XML 1.0 §2.4: `&` 5, `<` `>` 4; §2.11: CR 5). */
export function textBytes(text: string): number {
  return escapedBytes(text, TEXT_ESCAPED);
}

/** At most 6 bytes per UTF-16 unit (a quote escaped): a bound that costs nothing to compute. */
const upperBound = (text: string): number => text.length * 6;

/** Whether `text` serialises (as an attribute value) within `limit` bytes. */
export function textFits(text: string, limit: number): boolean {
  return upperBound(text) <= limit || escapedBytes(text, ATTRIBUTE_ESCAPED, limit) <= limit;
}

/**
 * Whether a serialised stanza fits the outgoing bound, in UTF-8 bytes. A UTF-16 unit is at most 3
 * UTF-8 bytes, so most stanzas are decided by their length alone.
 */
export function serialisedFits(limits: Pick<StanzaLimits, "maxStanzaBytes">, data: string): boolean {
  return data.length * 3 <= limits.maxStanzaBytes || Buffer.byteLength(data, "utf8") <= limits.maxStanzaBytes;
}

/** At most 5 bytes per UTF-16 unit of character data (`&` escaped). */
const textUpperBound = (text: string): number => text.length * 5;

/** At least one byte per UTF-16 unit, escaped or not. */
const lowerBound = (text: string): number => text.length;

type Count = "exact" | "upper" | "lower";
const COUNTS: Record<Count, { attribute: (text: string) => number; text: (text: string) => number }> = {
  exact: { attribute: serialisedBytes, text: textBytes },
  upper: { attribute: upperBound, text: textUpperBound },
  lower: { attribute: lowerBound, text: lowerBound },
};

/** UTF-8 bytes of `element` as serialised: counted exactly, or bounded from above or below. */
function elementBytes(element: Element, count: Count): number {
  const { attribute, text } = COUNTS[count];
  // `<name` `>` `</name>`: names are XML names, never escaped.
  let bytes = 2 * Buffer.byteLength(element.name) + 5;
  for (const [key, value] of Object.entries(element.attrs)) {
    if (value === undefined || value === null) continue;
    bytes += Buffer.byteLength(key) + 4 + attribute(String(value));
  }
  for (const child of element.children)
    bytes += typeof child === "string" ? text(child) : elementBytes(child, count);
  return bytes;
}

/** Whether an element's character data, as serialised, is within `limit` (its markup counted too). */
function textWithin(element: Element, limit: number): boolean {
  let upper = 0;
  for (const child of element.children) upper += typeof child === "string" ? textUpperBound(child) : Infinity;
  return (
    upper <= limit || (elementBytes(element, "lower") <= limit && elementBytes(element, "exact") <= limit)
  );
}

/** The first part of an incoming stanza over its bound, with that bound; undefined when all fit. */
export function oversizePart(
  limits: StanzaLimits,
  stanza: Element,
): { part: StanzaPart; limit: number } | undefined {
  if (!depthWithin(stanza, limits.depth)) return { part: "depth", limit: limits.depth };
  const id = stanza.attrs.id;
  if (id !== undefined && !textFits(id, limits.id)) return { part: "id", limit: limits.id };
  const to = stanza.attrs.to;
  const slash = to?.indexOf("/") ?? -1;
  if (to !== undefined && slash >= 0 && !textFits(to.slice(slash + 1), limits.resource))
    return { part: "resource", limit: limits.resource };
  for (const child of stanza.children) {
    if (typeof child === "string") continue;
    const bound =
      stanza.name === "message" && child.name === "body"
        ? ("body" as const)
        : stanza.name === "message" && child.name === "subject"
          ? ("subject" as const)
          : stanza.name === "presence" && child.name === "status"
            ? ("status" as const)
            : undefined;
    if (bound && !textWithin(child, limits[bound])) return { part: bound, limit: limits[bound] };
  }
  if (oversizeReason(stanza, limits.reason)) return { part: "reason", limit: limits.reason };
  if (
    elementBytes(stanza, "upper") > limits.stanza &&
    (elementBytes(stanza, "lower") > limits.stanza || elementBytes(stanza, "exact") > limits.stanza)
  )
    return { part: "stanza", limit: limits.stanza };
  return undefined;
}

/** Whether no element below `stanza` nests deeper than `limit` (iterative: the depth is untrusted). */
export function depthWithin(stanza: Element, limit: number): boolean {
  const stack: Array<[Element, number]> = [[stanza, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [element, depth] = top;
    if (depth > limit) return false;
    for (const child of element.children) if (typeof child !== "string") stack.push([child, depth + 1]);
  }
  return true;
}

/** Whether any `<reason/>` below `element` (MUC: XEP-0045 §8.2, §9.1, §10.9, §7.8) is over `limit`. */
function oversizeReason(element: Element, limit: number): boolean {
  for (const child of element.children) {
    if (typeof child === "string") continue;
    if (child.name === "reason" && !textWithin(child, limit)) return true;
    if (oversizeReason(child, limit)) return true;
  }
  return false;
}
