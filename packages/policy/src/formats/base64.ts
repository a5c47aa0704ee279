// Canonical base64 (RFC 4648 §4: the standard alphabet, "=" padding, no white space, zero unused
// bits) decoded in one pass in place of a native decode and an encode back compared with the text.
// A text that is not canonical is left to the general decoder (detect.ts), which decides as before.
import { Buffer } from "node:buffer";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** The 6-bit value of a character code below 256; 0xff for any other character. */
const VALUE = new Uint8Array(256).fill(0xff);
for (let i = 0; i < 64; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * Decoded bytes are views into one 8 KiB chunk until it is full (as `Buffer.from` pools them: a
 * label keeps its bytes, and a chunk is let go when none of its views is held); a value larger
 * than half a chunk gets its own buffer.
 */
const CHUNK = 8192;
let chunk = new ArrayBuffer(CHUNK);
let used = 0;

/**
 * The bytes `text` is the canonical base64 of (what `Buffer` writes), or undefined when it is not
 * canonical — any other character, white space, wrong or missing padding, a set unused bit.
 */
export function decodeCanonicalBase64(text: string): Uint8Array | undefined {
  const len = text.length;
  if (len === 0 || (len & 3) !== 0) return undefined;
  let pad = 0;
  if (text.charCodeAt(len - 1) === 0x3d) pad = text.charCodeAt(len - 2) === 0x3d ? 2 : 1;
  const n = (len >>> 2) * 3 - pad;
  const pooled = n <= CHUNK >>> 1;
  let out: Uint8Array;
  if (!pooled) out = new Uint8Array(n);
  else {
    if (used + n > CHUNK) {
      chunk = new ArrayBuffer(CHUNK);
      used = 0;
    }
    out = new Uint8Array(chunk, used, n);
  }
  const full = pad === 0 ? len : len - 4;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) > 0xff) return undefined;
    const q = VALUE[a]!;
    const r = VALUE[b]!;
    const s = VALUE[c]!;
    const u = VALUE[d]!;
    if ((q | r | s | u) > 63) return undefined;
    const v = (q << 18) | (r << 12) | (s << 6) | u;
    out[o] = v >>> 16;
    out[o + 1] = (v >>> 8) & 0xff;
    out[o + 2] = v & 0xff;
    o += 3;
  }
  if (pad !== 0) {
    const a = text.charCodeAt(full);
    const b = text.charCodeAt(full + 1);
    if ((a | b) > 0xff) return undefined;
    const q = VALUE[a]!;
    const r = VALUE[b]!;
    if ((q | r) > 63) return undefined;
    out[o] = (q << 2) | (r >>> 4);
    if (pad === 2) {
      // "xx==": one byte; the low 4 bits of the second character are unused and must be zero.
      if ((r & 0x0f) !== 0) return undefined;
    } else {
      const c = text.charCodeAt(full + 2);
      if (c > 0xff) return undefined;
      const s = VALUE[c]!;
      // "xxx=": two bytes; the low 2 bits of the third character are unused and must be zero.
      if (s > 63 || (s & 0x03) !== 0) return undefined;
      out[o + 1] = ((r & 0x0f) << 4) | (s >>> 2);
    }
  }
  // Only a decoded value takes its room in the chunk (8-byte aligned, as Buffer's pool).
  if (pooled) used = (used + n + 7) & ~7;
  return out;
}

/** `Buffer` for the general decoder (lenient native decode after the pattern checks). */
export function decodeNative(text: string): Uint8Array {
  const b = Buffer.from(text, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
