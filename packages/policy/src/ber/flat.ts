// A small strict BER reader (ITU-T X.690 §8) without a node tree: every TLV is written as four
// integers into one table, in document (depth-first) order, and a decoder walks the table by index;
// the values are read in place by reader.ts. Definite and (for constructed values) indefinite
// lengths are accepted; trailing bytes are rejected; size, depth and node limits apply. The checks,
// their order and their errors are those of the tree reader this replaced (kept as the reference
// test/ber/tree-reader.ts; test/formats/ess-differential.test.ts compares the decoders built on
// each on random, mutated and re-encoded inputs).
import { LimitExceededError, MalformedEncodingError } from "../errors.js";
import type { BerLimits } from "./limits.js";

/**
 * A decoded value as a table of TLVs. Entry i (i = 0 the outermost) holds its identifier
 * (`id`: class, form and tag number packed as `ident` makes them), the offsets of its content
 * octets in `input` (equal for an indefinite-length value) and `next`, the index of the entry
 * after its subtree: its children are i + 1, then each child's `next`, until i's `next`.
 */
export interface FlatBer {
  readonly input: Uint8Array;
  /** Stride 4: id, contentStart, contentEnd, next. Valid for entries below `count` only. */
  readonly table: Int32Array;
  readonly count: number;
}

/** The packed identifier of (class, constructed, tag number); tag numbers are below 2^28 here. */
export function ident(cls: number, constructed: boolean, tag: number): number {
  return (cls << 29) | (constructed ? 1 << 28 : 0) | tag;
}

export const ID = 0;
export const START = 1;
export const END = 2;
export const NEXT = 3;

/** Entries kept between calls: a table grown past this (a huge value's) is let go at the next call. */
const KEEP_ENTRIES = 4096;
const EMPTY = new Uint8Array(0);

/**
 * The reader, and the table it fills, are one object reused by every call (the decoders are
 * synchronous and call nothing that decodes again). The table has room for as many TLVs as the
 * input can hold: 16 bytes per TLV, and a TLV takes at least 2 input bytes, so at most 8 table
 * bytes per input byte (and at most maxNodes TLVs).
 *
 * The TLVs are read by one loop, not a call per TLV: the constructed values open around the
 * current position are a stack (`open`: two integers each, the entry's offset in the table — plus
 * 1 when of indefinite length — and the limit its contents must keep within). The order of the
 * reads, and so of the checks and errors, is the recursive reader's: a TLV's header, then its
 * contents, then its next sibling or its parent's end.
 */
class FlatReader implements FlatBer {
  count = 0;
  maxNodes = 0;
  maxDepth = 0;
  input: Uint8Array = EMPTY;
  table: Int32Array = new Int32Array(4 * 64);
  open: Int32Array = new Int32Array(2 * 64);

  fail(what: string): never {
    throw new MalformedEncodingError(what);
  }

  /** Decode the TLV at offset 0 of the input, not extending past `total`; returns its end. */
  run(total: number): number {
    const buf = this.input;
    const table = this.table;
    const open = this.open;
    const maxNodes = this.maxNodes;
    const maxDepth = this.maxDepth;
    let count = 0;
    let sp = 0; // constructed values open (each two integers in `open`)
    let pos = 0;
    let limit = total;
    for (;;) {
      // One TLV's header at `pos`, within `limit`, at depth sp + 1.
      if (count + 1 > maxNodes) throw new LimitExceededError(`BER value has more than ${maxNodes} nodes`);
      if (sp + 1 > maxDepth) throw new LimitExceededError(`BER nesting deeper than ${maxDepth}`);
      const start = pos;
      if (pos >= limit) this.fail("Truncated BER value");
      const first = buf[pos++]!;
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
        // X.690 §8.1.2.2: tag numbers 0 to 30 shall use the one-octet form (else `1f 06` would be
        // an OBJECT IDENTIFIER other parsers refuse).
        if (tag < 31) this.fail("Bad BER tag");
      }
      if (pos >= limit) this.fail("Truncated BER value");
      const e = 4 * count++;
      // decodeBerFlat sized the table for every TLV the input can hold; should the limits given be
      // no numbers (NaN), an entry written past the end would be dropped silently and its subtree
      // skipped: fail closed instead.
      if (e + 4 > table.length) throw new LimitExceededError("BER value has too many nodes");
      table[e + ID] = ident(first >> 6, constructed, tag);
      const lb = buf[pos++]!;
      let len: number;
      if (lb < 0x80) len = lb;
      else if (lb === 0x80) {
        // X.690 §8.1.3.6: indefinite form, constructed only.
        if (!constructed) this.fail("Indefinite length on a primitive BER value");
        table[e + START] = start;
        table[e + END] = start;
        // Its contents run to the end-of-contents octets, within the same limit. (The stack has
        // room for every TLV the table has: this check, like the table's, fails closed only.)
        if (2 * sp + 2 > open.length) throw new LimitExceededError("BER value has too many nodes");
        open[2 * sp] = e + 1;
        open[2 * sp + 1] = limit;
        sp++;
        len = -1;
      } else {
        const n = lb & 0x7f;
        if (n > 4 || n === 0x7f) this.fail("Bad BER length");
        len = 0;
        for (let i = 0; i < n; i++) {
          if (pos >= limit) this.fail("Truncated BER value");
          len = len * 256 + buf[pos++]!;
        }
      }
      if (len >= 0) {
        const end = pos + len;
        if (end > limit) this.fail("Truncated BER value");
        table[e + START] = pos;
        table[e + END] = end;
        if (constructed) {
          if (2 * sp + 2 > open.length) throw new LimitExceededError("BER value has too many nodes");
          open[2 * sp] = e;
          open[2 * sp + 1] = end;
          sp++;
          limit = end;
        } else {
          table[e + NEXT] = count;
          pos = end;
        }
      }
      // Close every open value whose contents are complete; then read its next member, or stop.
      for (;;) {
        if (sp === 0) {
          this.count = count;
          return pos;
        }
        const top = open[2 * sp - 2]!;
        const until = open[2 * sp - 1]!;
        if ((top & 1) === 0) {
          // Definite length: its members end exactly at its end (none may pass it).
          if (pos < until) {
            limit = until;
            break;
          }
          table[top + NEXT] = count;
        } else {
          if (pos + 2 > until) this.fail("Truncated BER value");
          if (buf[pos] !== 0 || buf[pos + 1] !== 0) {
            limit = until;
            break;
          }
          pos += 2;
          table[top - 1 + NEXT] = count;
        }
        sp--;
      }
    }
  }
}

const reader = new FlatReader();

/**
 * Decode exactly one BER value occupying the whole input into the shared table. The result is
 * valid until the next call.
 */
export function decodeBerFlat(bytes: Uint8Array, limits: BerLimits): FlatBer {
  if (bytes.length > limits.maxBytes)
    throw new LimitExceededError(`BER value larger than ${limits.maxBytes} bytes`);
  // Offsets are stored as 32-bit integers.
  if (bytes.length > 0x7fffffff) throw new LimitExceededError("BER value larger than 2 GiB");
  const r = reader;
  // Room for every TLV the input can hold: each takes 2 octets at least, and there are at most
  // maxNodes of them. The previous call's table, if a huge value's, is let go.
  const most = Math.min(limits.maxNodes, (bytes.length >>> 1) + 1);
  if (r.table.length < 4 * most || r.table.length > 4 * Math.max(KEEP_ENTRIES, most)) {
    r.table = new Int32Array(4 * Math.max(64, most));
    // Each open value is one of the TLVs: the stack needs no more room than the table.
    r.open = new Int32Array(2 * Math.max(64, most));
  }
  r.input = bytes;
  r.maxNodes = limits.maxNodes;
  r.maxDepth = limits.maxDepth;
  r.count = 0;
  const end = r.run(bytes.length);
  if (end !== bytes.length) throw new MalformedEncodingError("Trailing bytes after BER value");
  return r;
}
