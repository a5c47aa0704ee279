// The in-place ESS label and BER clearance decoders (ber/flat.ts) against the tree decoders they
// replaced (ess-reference.ts), and the base64 fast path against the pattern-checked decoder: on
// the corpus, its re-encodings in other BER forms, and many random and mutated inputs, both must
// accept the same inputs with equal results (the same policy objects, categories in the same
// order, the same ACDF pairs) and reject the same inputs with the same error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readdirSync } from "node:fs";
import { decodeBer } from "../ber/tree-reader.js";
import type { BerNode } from "../ber/tree-reader.js";
import type { BerLimits } from "../../src/ber/limits.js";
import { DEFAULT_BER_LIMITS } from "../../src/ber/limits.js";
import { decodeBerClearance, encodeBerClearance } from "../../src/formats/clearance-ber.js";
import { decodeBase64, detectFormat, parseClearance, parseLabelData } from "../../src/formats/detect.js";
import { decodeEssLabel, encodeEssLabel } from "../../src/formats/ess.js";
import { mutate, prng, randomInput } from "../../src/fuzz.js";
import type { Clearance } from "../../src/clearance.js";
import type { Label } from "../../src/label.js";
import { CORPUS, corpusFile, registryOf } from "../corpus.js";
import { isValidLabel } from "../../src/validate.js";
import {
  referenceIsValidLabel,
  referenceDecodeBase64,
  referenceDecodeBerClearance,
  referenceDecodeEssLabel,
} from "./ess-reference.js";

const registry = registryOf("harbour-policy.xml", "tlp-extended-policy.xml", "tlp-policy.xml");

type Outcome<T> = { value: T } | { error: unknown };

function run<T>(f: () => T): Outcome<T> {
  try {
    return { value: f() };
  } catch (error) {
    return { error };
  }
}

function sameError(a: unknown, b: unknown, what: string): void {
  assert.ok(a instanceof Error && b instanceof Error, what);
  assert.equal(a.constructor, b.constructor, what);
  assert.equal(a.message, b.message, what);
  assert.equal((a as { code?: unknown }).code, (b as { code?: unknown }).code, what);
}

function sameLabelExactly(a: Label, b: Label, what: string): void {
  assert.equal(a.policy, b.policy, what);
  assert.equal(a.classification, b.classification, what);
  assert.equal(a.categories.length, b.categories.length, what);
  a.categories.forEach((c, i) => assert.equal(c, b.categories[i], what));
  assert.equal(a.privacyMark, b.privacyMark, what);
  assert.deepEqual(a.encoded && [...a.encoded], b.encoded && [...b.encoded], what);
  assert.deepEqual([...a.acdf.restrictive], [...b.acdf.restrictive], what);
  assert.deepEqual(
    a.acdf.permissive.map((p) => [...p]),
    b.acdf.permissive.map((p) => [...p]),
    what,
  );
}

function sameClearanceExactly(a: Clearance, b: Clearance, what: string): void {
  assert.equal(a.policy, b.policy, what);
  assert.deepEqual(a.classifications, b.classifications, what);
  assert.equal(a.categories.length, b.categories.length, what);
  a.categories.forEach((c, i) => assert.equal(c, b.categories[i], what));
  assert.deepEqual([...a.classBits], [...b.classBits], what);
  assert.deepEqual([...a.catBits], [...b.catBits], what);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const tally = { valid: 0, labels: 0, labelErrors: 0, clearances: 0, clearanceErrors: 0 };

/** Both label decoders and both clearance decoders on `bytes`: equal outcomes. */
function compare(bytes: Uint8Array, limits: BerLimits = DEFAULT_BER_LIMITS): void {
  const what = hex(bytes);
  const l1 = run(() => decodeEssLabel(bytes, registry, limits));
  const l0 = run(() => referenceDecodeEssLabel(bytes, registry, limits));
  assert.equal("value" in l1, "value" in l0, `label accepted by one decoder only: ${what}`);
  if ("value" in l1 && "value" in l0) {
    sameLabelExactly(l1.value, l0.value, what);
    assert.equal(isValidLabel(l1.value), referenceIsValidLabel(l0.value), what);
    if (isValidLabel(l1.value)) tally.valid++;
    tally.labels++;
  } else if ("error" in l1 && "error" in l0) {
    sameError(l1.error, l0.error, what);
    tally.labelErrors++;
  }
  const c1 = run(() => decodeBerClearance(bytes, registry, limits));
  const c0 = run(() => referenceDecodeBerClearance(bytes, registry, limits));
  assert.equal("value" in c1, "value" in c0, `clearance accepted by one decoder only: ${what}`);
  if ("value" in c1 && "value" in c0) {
    sameClearanceExactly(c1.value, c0.value, what);
    tally.clearances++;
  } else if ("error" in c1 && "error" in c0) {
    sameError(c1.error, c0.error, what);
    tally.clearanceErrors++;
  }
}

// Seeds: every BER file of the corpus, and every corpus label and clearance in DER.
const seeds: Uint8Array[] = readdirSync(CORPUS)
  .filter((f) => f.endsWith(".ber"))
  .map((f) => new Uint8Array(corpusFile(f)));
for (const f of readdirSync(CORPUS).filter((f) => /label|clearance/.test(f) && f.endsWith(".xml"))) {
  const l = run(() => parseLabelData(corpusFile(f), registry));
  if ("value" in l) seeds.push(encodeEssLabel(l.value, { reencode: true }));
  const c = run(() => parseClearance(corpusFile(f), registry));
  if ("value" in c) seeds.push(encodeBerClearance(c.value));
}

/** The header of a TLV: identifier octets, then a length in the form `form` picks. */
function header(node: BerNode, contentLength: number | undefined, form: number): number[] {
  const id = [...node.input.subarray(node.start, node.start + 1)];
  if (node.tag >= 31) {
    // Copy the high tag number octets as they were.
    let p = node.start + 1;
    do id.push(node.input[p]!);
    while (node.input[p++]! & 0x80);
  }
  if (contentLength === undefined) return [...id, 0x80];
  const n = contentLength;
  const be = (v: number, octets: number): number[] =>
    Array.from({ length: octets }, (_, i) => Math.floor(v / 256 ** (octets - 1 - i)) & 0xff);
  if (form === 1) return [...id, 0x84, ...be(n, 4)]; // long form, non-minimal
  if (form === 2) return [...id, 0x82, ...be(n, 2)];
  if (n < 128) return [...id, n];
  const octets = n < 256 ? 1 : n < 65536 ? 2 : 3;
  return [...id, 0x80 | octets, ...be(n, octets)];
}

/**
 * Re-encode a decoded tree, each TLV's length in a random BER form (short, long non-minimal,
 * indefinite for constructed values), and now and then one TLV changed: dropped, doubled, its
 * tag bumped, its content octets flipped, an OID given a leading 0x80 or an unknown arc, an
 * INTEGER a leading zero, a BIT STRING another unused-bits count, or wrapped in a SET.
 */
function reencode(node: BerNode, rnd: () => number, change: number): number[] {
  const pick = rnd();
  let content: number[];
  if (node.constructed) {
    const kids: number[][] = [];
    for (const c of node.children) {
      const r = rnd();
      if (r < change * 0.1) continue; // dropped
      const k = reencode(c, rnd, change);
      kids.push(k);
      if (r > 1 - change * 0.1) kids.push(k); // doubled
    }
    if (kids.length > 1 && rnd() < change * 0.1) kids.reverse();
    content = kids.flat();
  } else {
    content = [...node.content];
    if (rnd() < change * 0.2) {
      const m = Math.floor(rnd() * 6);
      const at = Math.floor(rnd() * content.length);
      if (m === 0 && content.length) content[at] = content[at]! ^ (1 << Math.floor(rnd() * 8));
      else if (m === 1 && node.tag === 6) content.unshift(0x80);
      else if (m === 2 && node.tag === 6) content.push(0x81, Math.floor(rnd() * 128));
      else if (m === 3 && node.tag === 2) content.unshift(rnd() < 0.5 ? 0 : 0xff);
      else if (m === 4 && node.tag === 3 && content.length) content[0] = Math.floor(rnd() * 9);
      else if (m === 5) content = content.slice(0, Math.floor(rnd() * content.length));
    }
  }
  const indefinite = node.constructed && pick < 0.15;
  const form = pick < 0.3 ? 1 : pick < 0.4 ? 2 : 0;
  const h = header(node, indefinite ? undefined : content.length, form);
  if (rnd() < change * 0.05) h[0] = (h[0]! & 0xe0) | ((h[0]! + 1) & 0x1f); // tag bumped
  if (rnd() < change * 0.03) h[0] = h[0]! ^ 0x40; // class changed
  let out = [...h, ...content, ...(indefinite ? [0, 0] : [])];
  if (rnd() < change * 0.02) out = [0x31, ...header(node, out.length, 0).slice(1), ...out].slice(0); // wrapped
  return out;
}

/** Preorder count of a tree's TLVs. */
const size = (n: BerNode): number => n.children.reduce((a, c) => a + size(c), 1);

/**
 * Re-encode a tree with one structural change at each preorder TLV of `at`: one of its children
 * dropped, doubled or moved last, a child added (an INTEGER, an empty SET, an OID), or its tag
 * number or class changed; every length stays right, so only that change is tested.
 */
function reencodeOne(node: BerNode, rnd: () => number, at: readonly number[], counter = { n: 0 }): number[] {
  const self = counter.n++;
  const times = at.filter((x) => x === self).length;
  const here = times > 0;
  let content: number[];
  if (node.constructed) {
    const kids = node.children.map((c) => reencodeOne(c, rnd, at, counter));
    for (let t = 0; t < times; t++) {
      const i = Math.floor(rnd() * kids.length);
      const m = Math.floor(rnd() * 6);
      if (m === 0) kids.splice(i, 1);
      else if (m === 1 && kids.length) kids.splice(i, 0, kids[i]!);
      else if (m === 2 && kids.length) kids.push(kids.splice(i, 1)[0]!);
      else if (m === 3) kids.splice(i, 0, [0x02, 0x01, Math.floor(rnd() * 8)]);
      else if (m === 4) kids.splice(i, 0, [0x31, 0x00]);
      else kids.splice(i, 0, [0x06, 0x03, 0x2b, 0x06, 0x01]);
    }
    content = kids.flat();
  } else content = [...node.content];
  const h = header(node, content.length, 0);
  if (here && rnd() < 0.3) {
    if (rnd() < 0.5) h[0] = (h[0]! & 0xe0) | Math.floor(rnd() * 31);
    else h[0] = h[0]! ^ (rnd() < 0.5 ? 0x40 : 0x80);
  }
  return [...h, ...content];
}

/** Wrap `bytes` in `depth` constructed SET values (nesting depth). */
function nest(bytes: Uint8Array, depth: number): Uint8Array {
  let b = [...bytes];
  for (let i = 0; i < depth; i++) {
    const n = b.length;
    b = [0x31, ...(n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff]), ...b];
  }
  return Uint8Array.from(b);
}

test("the in-place ESS decoder accepts and rejects what the tree decoder did, with equal labels", () => {
  const rnd = prng(41);
  for (const s of seeds) compare(s);
  const trees: BerNode[] = [];
  for (const s of seeds) {
    const t = run(() => decodeBer(s));
    if ("value" in t) trees.push(t.value);
  }
  for (let i = 0; i < 40000; i++) {
    const k = i % 10;
    const seed = seeds[i % seeds.length]!;
    let input: Uint8Array;
    // Re-encoded in other BER forms, with no change, now and then one, or many.
    if (k < 4) input = Uint8Array.from(reencode(trees[i % trees.length]!, rnd, [0, 0.03, 0.1, 1][k]!));
    else if (k < 6) {
      const tree = trees[i % trees.length]!;
      const at = [Math.floor(rnd() * size(tree))];
      if (k === 5) at.push(rnd() < 0.5 ? at[0]! : Math.floor(rnd() * size(tree)));
      input = Uint8Array.from(reencodeOne(tree, rnd, at));
    } else if (k < 7) input = mutate(seed, rnd);
    else if (k === 7) input = randomInput(rnd, 300);
    else if (k === 8) {
      // Trailing bytes, huge lengths, truncations at every kind of boundary.
      const b = [...seed];
      const r = Math.floor(rnd() * 4);
      if (r === 0) b.push(...randomInput(rnd, 4));
      else if (r === 1) b.splice(1, 1, 0x84, 0xff, 0xff, 0xff, 0xff);
      else if (r === 2) b.splice(1, 1, 0x85, 0, 0, 0, 0, b[1]!);
      else b.splice(1 + Math.floor(rnd() * (b.length - 1)), 0, 0x1f, 0x80);
      input = Uint8Array.from(b);
    } else input = nest(seed, Math.floor(rnd() * 20));
    compare(input);
  }
  // Tight limits: node count, depth and size refusals are the same ones.
  for (let i = 0; i < 2000; i++) {
    const limits = {
      maxBytes: 20 + Math.floor(rnd() * 300),
      maxDepth: 1 + Math.floor(rnd() * 8),
      maxNodes: 1 + Math.floor(rnd() * 40),
    };
    const seed = seeds[i % seeds.length]!;
    compare(i % 2 ? seed : mutate(seed, rnd), limits);
  }
  // Deep nesting in the indefinite form, past the depth limit.
  const deep = new Uint8Array(20000);
  for (let i = 0; i < deep.length; i += 2) [deep[i], deep[i + 1]] = [0x31, 0x80];
  compare(deep);
  compare(new Uint8Array(0));
  // Both outcomes were exercised, for labels and clearances.
  assert.ok(tally.labels > 1000, `labels accepted: ${tally.labels}`);
  assert.ok(tally.valid > 100 && tally.valid < tally.labels, `valid labels: ${tally.valid}`);
  assert.ok(tally.labelErrors > 1000, `labels refused: ${tally.labelErrors}`);
  assert.ok(tally.clearances > 100, `clearances accepted: ${tally.clearances}`);
  assert.ok(tally.clearanceErrors > 1000, `clearances refused: ${tally.clearanceErrors}`);
});

test("the base64 fast path decodes and refuses exactly as the pattern-checked decoder", () => {
  const rnd = prng(4141);
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const noise = [
    " ",
    "\n",
    "\t",
    "\r",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\ufeff",
    "=",
    "-",
    "_",
    "!",
    "é",
    "\u0085",
  ];
  const texts: string[] = [
    "",
    "=",
    "==",
    "====",
    "A===",
    "AB==",
    "QR==",
    "QRS=",
    "QRT=",
    "AAAA",
    " AAAA ",
    "AA=A",
  ];
  for (let i = 0; i < 20000; i++) {
    const bytes = i % 2 ? seeds[i % seeds.length]! : randomInput(rnd, 40);
    let t = Buffer.from(bytes).toString("base64");
    const r = Math.floor(rnd() * 6);
    if (r === 1 && t.length) {
      // A character replaced: from the alphabet (non-canonical unused bits) or not.
      const p = Math.floor(rnd() * t.length);
      const ch = rnd() < 0.7 ? ALPHABET[Math.floor(rnd() * 64)]! : noise[Math.floor(rnd() * noise.length)]!;
      t = t.slice(0, p) + ch + t.slice(p + 1);
    } else if (r === 2) {
      const p = Math.floor(rnd() * (t.length + 1));
      t = t.slice(0, p) + noise[Math.floor(rnd() * noise.length)]! + t.slice(p);
    } else if (r === 3) t = t.slice(0, Math.floor(rnd() * t.length));
    else if (r === 4) t = t.replace(/=+$/, "");
    texts.push(t);
  }
  let accepted = 0;
  let refused = 0;
  for (const t of texts) {
    const a = run(() => decodeBase64(t));
    const b = run(() => referenceDecodeBase64(t));
    assert.equal("value" in a, "value" in b, JSON.stringify(t));
    if ("value" in a && "value" in b) {
      assert.deepEqual([...a.value], [...b.value], JSON.stringify(t));
      accepted++;
    } else if ("error" in a && "error" in b) {
      sameError(a.error, b.error, JSON.stringify(t));
      refused++;
    }
  }
  assert.ok(accepted > 5000 && refused > 3000, `${accepted} accepted, ${refused} refused`);
});

test("labels from base64 text: the new path equals the old one, and XML text is still told apart", () => {
  const rnd = prng(7);
  for (let i = 0; i < 3000; i++) {
    const seed = seeds[i % seeds.length]!;
    const b = i % 3 === 0 ? mutate(seed, rnd) : seed;
    const text = (i % 5 === 0 ? "\n " : "") + Buffer.from(b).toString("base64");
    const a = run(() => parseLabelData(text, registry));
    const o = run(() => referenceDecodeEssLabel(referenceDecodeBase64(text), registry));
    assert.equal("value" in a, "value" in o, text);
    if ("value" in a && "value" in o) sameLabelExactly(a.value, o.value, text);
    else if ("error" in a && "error" in o) sameError(a.error, o.error, text);
  }
  const xml = corpusFile("harbour-label-crew-cargo.xml").toString("utf8");
  for (const lead of ["", " ", "\n\t"])
    assert.equal(parseLabelData(lead + xml, registry).classification.name, "CREW");
  // White space as \s has it (Unicode's too) is skipped before the "<", as before.
  for (const lead of ["\u00a0", "\ufeff", "\u3000", "\u2028"]) assert.equal(detectFormat(lead + xml), "xml");
  for (const lead of ["\u0085", "A"]) assert.equal(detectFormat(lead + xml), "base64");
});
