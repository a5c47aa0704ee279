// BER value readers (ITU-T X.690 §8.3, §8.6, §8.19, character strings) over content octets in place:
// buf[from, to), as ber/flat.ts's table gives them. The TLV structure itself is read by flat.ts.
import { MalformedEncodingError } from "../errors.js";
import { internalized } from "../intern.js";

export const UNIVERSAL = 0;
export const CONTEXT = 2;

/**
 * The OIDs read most recently, by their exact content octets: a label names the same few OIDs
 * (its policy, its tag sets, the category syntaxes) again and again, and a remembered OID is
 * compared byte for byte instead of decoded — and is the same string each time, so the maps it
 * is looked up in do not hash it again. OID_MEMO slots of at most 64 octets each, a slot chosen by
 * a hash of the octets (a newer OID of the same slot replaces the older).
 */
const OID_MEMO = 64;
const memoBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(OID_MEMO).fill(undefined);
const memoOids: string[] = new Array<string>(OID_MEMO).fill("");

/**
 * A slot from the length and the last three octets (the OIDs of one policy differ in their last
 * arcs; two OIDs of one slot only make each other decoded again, never confused: the octets are
 * compared in full).
 */
function slotOf(buf: Uint8Array, from: number, to: number): number {
  const n = to - from;
  const h = n * 7 + buf[to - 1]! * 31 + (n > 1 ? buf[to - 2]! * 5 : 0) + (n > 2 ? buf[to - 3]! : 0);
  return (h ^ (h >>> 6)) & (OID_MEMO - 1);
}

function remembered(buf: Uint8Array, from: number, to: number, slot: number): string | undefined {
  const bytes = memoBytes[slot];
  const length = to - from;
  if (bytes === undefined || bytes.length !== length) return undefined;
  for (let i = 0; i < length; i++) if (bytes[i] !== buf[from + i]) return undefined;
  return memoOids[slot];
}

/**
 * The octets are copied into an array of the memo's own, one at a time: `buf.slice` is a view, not
 * a copy, when `buf` is a Buffer (a caller's, or the one that decoded base64 text). A caller that
 * reused its buffer for other bytes changed the remembered octets under the remembered OID, and
 * another OID of the same slot was then read as it (an unknown policy's label as a known policy's).
 * Found in review (adv55).
 */
function remember(buf: Uint8Array, from: number, to: number, slot: number, oid: string): void {
  const own = new Uint8Array(to - from);
  for (let i = 0; i < own.length; i++) own[i] = buf[from + i]!;
  memoBytes[slot] = own;
  memoOids[slot] = internalized(oid);
}

/** X.690 §8.19: OBJECT IDENTIFIER content octets to dotted form. */
export function readOidAt(buf: Uint8Array, from: number, to: number): string {
  const length = to - from;
  if (length === 0 || length > 64) throw new MalformedEncodingError("Bad OBJECT IDENTIFIER");
  const slot = slotOf(buf, from, to);
  const known = remembered(buf, from, to, slot);
  if (known !== undefined) return known;
  const oid = decodeOid(buf, from, to);
  remember(buf, from, to, slot, oid);
  return oid;
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
export function readIntegerAt(buf: Uint8Array, from: number, to: number): number {
  checkInteger(buf, from, to);
  let v = buf[from]! & 0x80 ? -1 : 0; // two's complement: start from -1 for negative values
  for (let i = from; i < to; i++) v = v * 256 + buf[i]!;
  return v;
}

/**
 * The INTEGER checks of readIntegerAt over buf[from, to): 1 to 6 octets, and the minimal form
 * X.690 §8.3.2 requires of BER too (the first nine bits neither all zeros nor all ones: `00 05`
 * or `ff 85` would be a second encoding of one value).
 */
export function checkInteger(buf: Uint8Array, from: number, to: number): void {
  const n = to - from;
  if (n === 0 || n > 6) throw new MalformedEncodingError("Bad INTEGER");
  if (n > 1) {
    const nine = (buf[from]! << 1) | (buf[from + 1]! >> 7);
    if (nine === 0 || nine === 0x1ff) throw new MalformedEncodingError("Bad INTEGER");
  }
}

/**
 * X.690 §8.6: BIT STRING (primitive) to the list of set bit numbers. Bit n is octet n/8, mask 0x80>>(n%8).
 * The unused-bits count is honoured; a set bit inside the unused part is rejected.
 */
export function readBitString(buf: Uint8Array, from: number, to: number): number[] {
  checkBitString(buf, from, to);
  const bits: number[] = [];
  for (let i = from + 1; i < to; i++) {
    const b = buf[i]!;
    if (b === 0) continue;
    for (let j = 0; j < 8; j++) if (b & (0x80 >> j)) bits.push((i - from - 1) * 8 + j);
  }
  return bits;
}

/**
 * The BIT STRING checks of readBitString over buf[from, to), all made before any bit is read (a
 * set bit inside the unused part can only be in the last octet): a caller may then walk the bits
 * in place, octet from + 1 + n/8, mask 0x80 >> n%8.
 */
export function checkBitString(buf: Uint8Array, from: number, to: number): void {
  if (to === from) throw new MalformedEncodingError("Bad BIT STRING");
  const unused = buf[from]!;
  if (unused > 7 || (to - from === 1 && unused !== 0)) throw new MalformedEncodingError("Bad BIT STRING");
  if (to - from > 1 && (buf[to - 1]! & ((1 << unused) - 1)) !== 0)
    throw new MalformedEncodingError("Bad BIT STRING");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF8String / PrintableString / IA5String content to a JS string. */
export function readStringAt(buf: Uint8Array, from: number, to: number): string {
  try {
    return utf8.decode(buf.subarray(from, to));
  } catch {
    throw new MalformedEncodingError("Bad character string");
  }
}
