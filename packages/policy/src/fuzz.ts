// Fuzzing helpers shared by the test suite and bench/fuzz-policy.mjs: random and mutated inputs for the
// BER and XML decoders. Every input must produce a value or a PolicyError — nothing else.
import { PolicyError } from "./errors.js";
import { parseClearance, parseLabelData } from "./formats/detect.js";
import { parseSecurityLabelElement } from "./formats/xep0258.js";
import type { PolicyRegistry } from "./registry.js";

/** A small deterministic PRNG (mulberry32) so failures reproduce from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mutate bytes: flips, insertions, deletions, truncation, length-byte bumps. */
export function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const b = Array.from(input);
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 5)) {
      case 0:
        if (b.length) b[pos % b.length] = Math.floor(rnd() * 256);
        break;
      case 1:
        b.splice(pos, 0, Math.floor(rnd() * 256));
        break;
      case 2:
        b.splice(pos, 1);
        break;
      case 3:
        b.length = Math.floor(rnd() * b.length);
        break;
      default:
        if (b.length) b[pos % b.length] = (b[pos % b.length]! ^ (1 << Math.floor(rnd() * 8))) & 0xff;
    }
  }
  return Uint8Array.from(b);
}

/** Random bytes, biased towards ASN.1 and XML structure characters. */
export function randomInput(rnd: () => number, maxLen = 256): Uint8Array {
  const len = Math.floor(rnd() * maxLen);
  const alphabet = [
    0x30, 0x31, 0x02, 0x03, 0x06, 0x80, 0x81, 0xa1, 0xa2, 0x00, 0xff, 0x3c, 0x3e, 0x2f, 0x3d, 0x27, 0x22,
  ];
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++)
    out[i] = rnd() < 0.5 ? alphabet[Math.floor(rnd() * alphabet.length)]! : Math.floor(rnd() * 256);
  return out;
}

export interface FuzzOutcome {
  readonly values: number;
  readonly typedErrors: number;
}

/** Feed one input to every decoder; rethrows anything that is not a PolicyError. */
export function fuzzOne(
  input: Uint8Array,
  registry: PolicyRegistry,
  tally: { values: number; typedErrors: number },
): void {
  const text = Buffer.from(input).toString("latin1");
  const attempts: (() => unknown)[] = [
    () => parseLabelData(input, registry),
    () => parseClearance(input, registry),
    () => parseLabelData(text, registry),
    () => parseSecurityLabelElement(text),
  ];
  for (const a of attempts) {
    try {
      a();
      tally.values++;
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      tally.typedErrors++;
    }
  }
}
