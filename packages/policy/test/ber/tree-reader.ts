// The BER reader as it was before ber/flat.ts (commit b6dad98, src/ber/reader.ts): a tree of
// BerNode objects, and the value readers over a node's content, OIDs decoded every time (no memo).
// Kept only as the reference test/formats/ess-differential.test.ts compares the in-place decoders
// with. ITU-T X.690 §8. Two X.690 rules both readers lacked were added to both (branch adv41): a
// tag number below 31 in the high-tag-number form (§8.1.2.2) and an INTEGER not in its minimal
// form (§8.3.2) are refused.
import { LimitExceededError, MalformedEncodingError } from "../../src/errors.js";
import { DEFAULT_BER_LIMITS } from "../../src/ber/limits.js";
import type { BerLimits } from "../../src/ber/limits.js";

export const UNIVERSAL = 0;
export const CONTEXT = 2;

/**
 * One decoded TLV. The node holds offsets into the input, not copies: `content` is a view made only
 * when asked for (the readers below read the input directly), so decoding allocates one object per
 * TLV and nothing per value.
 */
export class BerNode {
  constructor(
    /** The whole input the node was decoded from. */
    readonly input: Uint8Array,
    /** Tag class (X.690 §8.1.2.2): 0 universal, 1 application, 2 context-specific, 3 private. */
    readonly cls: number,
    readonly constructed: boolean,
    readonly tag: number,
    /** Offsets of the content octets in the input (equal for an indefinite-length value). */
    readonly contentStart: number,
    readonly contentEnd: number,
    readonly children: readonly BerNode[],
    /** Offsets of the whole TLV in the input. */
    readonly start: number,
    readonly end: number,
  ) {}

  /** The content octets, a view into the input (primitive values only are meaningful). */
  get content(): Uint8Array {
    return this.input.subarray(this.contentStart, this.contentEnd);
  }
}

const NO_CHILDREN: readonly BerNode[] = [];

class Reader {
  nodes = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly limits: BerLimits,
  ) {}

  fail(what: string): never {
    throw new MalformedEncodingError(what);
  }

  /** Decode one TLV starting at `pos`, not extending past `limit`. */
  node(pos: number, limit: number, depth: number): BerNode {
    if (++this.nodes > this.limits.maxNodes)
      throw new LimitExceededError(`BER value has more than ${this.limits.maxNodes} nodes`);
    if (depth > this.limits.maxDepth)
      throw new LimitExceededError(`BER nesting deeper than ${this.limits.maxDepth}`);
    const buf = this.buf;
    const start = pos;
    if (pos >= limit) this.fail("Truncated BER value");
    const first = buf[pos++]!;
    const cls = first >> 6;
    const constructed = (first & 0x20) !== 0;
    let tag = first & 0x1f;
    if (tag === 0x1f) {
      // X.690 §8.1.2.4: high tag number form, at most 4 subsequent octets here.
      tag = 0;
      for (let i = 0; ; i++) {
        if (pos >= limit || i >= 4) this.fail("Bad BER tag");
        const b = buf[pos++]!;
        if (i === 0 && b === 0x80) this.fail("Bad BER tag");
        tag = tag * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) break;
      }
      if (tag < 31) this.fail("Bad BER tag");
    }
    if (pos >= limit) this.fail("Truncated BER value");
    const lb = buf[pos++]!;
    let len: number;
    if (lb < 0x80) len = lb;
    else if (lb === 0x80) {
      // X.690 §8.1.3.6: indefinite form, constructed only.
      if (!constructed) this.fail("Indefinite length on a primitive BER value");
      const children: BerNode[] = [];
      for (;;) {
        if (pos + 2 > limit) this.fail("Truncated BER value");
        if (buf[pos] === 0 && buf[pos + 1] === 0) {
          pos += 2;
          break;
        }
        const c = this.node(pos, limit, depth + 1);
        children.push(c);
        pos = c.end;
      }
      return new BerNode(buf, cls, constructed, tag, start, start, children, start, pos);
    } else {
      const n = lb & 0x7f;
      if (n > 4 || n === 0x7f) this.fail("Bad BER length");
      len = 0;
      for (let i = 0; i < n; i++) {
        if (pos >= limit) this.fail("Truncated BER value");
        len = len * 256 + buf[pos++]!;
      }
    }
    const end = pos + len;
    if (end > limit) this.fail("Truncated BER value");
    if (!constructed) return new BerNode(buf, cls, constructed, tag, pos, end, NO_CHILDREN, start, end);
    const children: BerNode[] = [];
    let p = pos;
    while (p < end) {
      const c = this.node(p, end, depth + 1);
      children.push(c);
      p = c.end;
    }
    return new BerNode(buf, cls, constructed, tag, pos, end, children, start, end);
  }
}

/** Decode exactly one BER value occupying the whole input. */
export function decodeBer(bytes: Uint8Array, limits: BerLimits = DEFAULT_BER_LIMITS): BerNode {
  if (bytes.length > limits.maxBytes)
    throw new LimitExceededError(`BER value larger than ${limits.maxBytes} bytes`);
  const r = new Reader(bytes, limits);
  const root = r.node(0, bytes.length, 1);
  if (root.end !== bytes.length) throw new MalformedEncodingError("Trailing bytes after BER value");
  return root;
}

/** True when the node has this class, form and tag number. */
export function is(node: BerNode, cls: number, constructed: boolean, tag: number): boolean {
  return node.cls === cls && node.constructed === constructed && node.tag === tag;
}

/** The content octets of a node, as input and offsets (no view is made). */
type Content = Uint8Array | BerNode;

function span(v: Content): [Uint8Array, number, number] {
  return v instanceof BerNode ? [v.input, v.contentStart, v.contentEnd] : [v, 0, v.length];
}

/** X.690 §8.19: OBJECT IDENTIFIER content octets to dotted form. */
export function readOid(value: Content): string {
  const [buf, from, to] = span(value);
  const length = to - from;
  if (length === 0 || length > 64) throw new MalformedEncodingError("Bad OBJECT IDENTIFIER");
  return decodeOid(buf, from, to);
}

function decodeOid(buf: Uint8Array, from: number, to: number): string {
  let out = "";
  let v = 0;
  let started = false;
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    if (!started && b === 0x80) throw new MalformedEncodingError("Bad OBJECT IDENTIFIER");
    started = true;
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 256) throw new MalformedEncodingError("Bad OBJECT IDENTIFIER");
    if ((b & 0x80) === 0) {
      if (out === "") {
        const a = v < 40 ? 0 : v < 80 ? 1 : 2;
        out = `${a}.${v - 40 * a}`;
      } else out += `.${v}`;
      v = 0;
      started = false;
    }
  }
  if (started) throw new MalformedEncodingError("Bad OBJECT IDENTIFIER");
  return out;
}

/** X.690 §8.3: INTEGER content octets, limited to the safe integer range (6 octets). */
export function readInteger(value: Content): number {
  const [buf, from, to] = span(value);
  const n = to - from;
  if (n === 0 || n > 6) throw new MalformedEncodingError("Bad INTEGER");
  if (n > 1 && (buf[from] === 0 ? buf[from + 1]! < 0x80 : buf[from] === 0xff && buf[from + 1]! >= 0x80))
    throw new MalformedEncodingError("Bad INTEGER");
  let v = buf[from]! & 0x80 ? -1 : 0; // two's complement: start from -1 for negative values
  for (let i = from; i < to; i++) v = v * 256 + buf[i]!;
  return v;
}

/**
 * X.690 §8.6: BIT STRING (primitive) to the list of set bit numbers. Bit n is octet n/8, mask 0x80>>(n%8).
 * The unused-bits count is honoured; a set bit inside the unused part is rejected.
 */
export function readBitString(value: Content): number[] {
  const [buf, from, to] = span(value);
  if (to === from) throw new MalformedEncodingError("Bad BIT STRING");
  const unused = buf[from]!;
  if (unused > 7 || (to - from === 1 && unused !== 0)) throw new MalformedEncodingError("Bad BIT STRING");
  const bits: number[] = [];
  const last = to - 1;
  for (let i = from + 1; i < to; i++) {
    const b = buf[i]!;
    if (b === 0) continue;
    if (i === last && (b & ((1 << unused) - 1)) !== 0) throw new MalformedEncodingError("Bad BIT STRING");
    for (let j = 0; j < 8; j++) if (b & (0x80 >> j)) bits.push((i - from - 1) * 8 + j);
  }
  return bits;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF8String / PrintableString / IA5String content to a JS string. */
export function readString(value: Content): string {
  const [buf, from, to] = span(value);
  try {
    return utf8.decode(buf.subarray(from, to));
  } catch {
    throw new MalformedEncodingError("Bad character string");
  }
}
