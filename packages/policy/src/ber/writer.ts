// A minimal DER writer (ITU-T X.690 §10): definite lengths, minimal integers, canonical SET OF order.

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | bytes.length, ...bytes];
}

/** A TLV with a single-octet identifier. */
export function tlv(identifier: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  return concat([Uint8Array.from([identifier, ...lengthOctets(body.length)]), body]);
}

/** X.690 §8.19 OBJECT IDENTIFIER content. */
export function oidContent(oid: string): Uint8Array {
  const arcs = oid.split(".").map((a) => Number(a));
  const out: number[] = [];
  const push = (v: number): void => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (let i = 2; i < arcs.length; i++) push(arcs[i]!);
  return Uint8Array.from(out);
}

/** X.690 §8.3 minimal two's complement INTEGER content. */
export function integerContent(v: number): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const b = ((x % 256) + 256) % 256;
    out.unshift(b);
    x = Math.floor(x / 256);
    if ((x === 0 && (b & 0x80) === 0) || (x === -1 && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

/** X.690 §11.2 DER BIT STRING content for a set of bit numbers (trailing zero bits removed). */
export function bitStringContent(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return Uint8Array.of(0);
  let max = 0;
  for (const b of bits) if (b > max) max = b;
  const out = new Uint8Array(1 + Math.floor(max / 8) + 1);
  for (const b of bits) out[1 + (b >> 3)]! |= 0x80 >> (b & 7);
  out[0] = 7 - (max & 7);
  return out;
}

/** X.690 §11.6: SET OF components in ascending order of their encodings. */
export function sortDer(parts: Uint8Array[]): Uint8Array[] {
  return parts.sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
}

export const oid = (o: string): Uint8Array => tlv(0x06, oidContent(o));
export const integer = (v: number): Uint8Array => tlv(0x02, integerContent(v));
export const bitString = (bits: readonly number[]): Uint8Array => tlv(0x03, bitStringContent(bits));
export const sequence = (...c: Uint8Array[]): Uint8Array => tlv(0x30, ...c);
export const setOf = (c: Uint8Array[]): Uint8Array => tlv(0x31, ...sortDer(c));
export const utf8String = (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s));
