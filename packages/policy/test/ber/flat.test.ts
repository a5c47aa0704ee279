// ber/flat.ts (one loop, a stack of open values) against the recursive tree reader it replaced
// (tree-reader.ts): on nested values of every length form, with random limits, mutations and
// truncations, both accept the same inputs with the same structure (identifier, content offsets,
// subtree extent of every TLV, in document order) and refuse the same inputs with the same error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeBer } from "./tree-reader.js";
import type { BerNode } from "./tree-reader.js";
import { decodeBerFlat, END, ID, ident, NEXT, START } from "../../src/ber/flat.js";
import type { BerLimits } from "../../src/ber/limits.js";
import { DEFAULT_BER_LIMITS } from "../../src/ber/limits.js";
import { mutate, prng, randomInput } from "../../src/fuzz.js";

type Row = [id: number, start: number, end: number, next: number];

/** The tree in the flat table's form: rows in document order, `next` the index after the subtree. */
function rowsOf(root: BerNode): Row[] {
  const rows: Row[] = [];
  const walk = (n: BerNode): void => {
    const i = rows.length;
    rows.push([ident(n.cls, n.constructed, n.tag), n.contentStart, n.contentEnd, 0]);
    for (const c of n.children) walk(c);
    rows[i]![3] = rows.length;
  };
  walk(root);
  return rows;
}

function outcome(f: () => Row[]): { rows: Row[] } | { error: string } {
  try {
    return { rows: f() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

function compare(input: Uint8Array, limits: BerLimits = DEFAULT_BER_LIMITS): boolean {
  const want = outcome(() => rowsOf(decodeBer(input, limits)));
  const got = outcome(() => {
    const f = decodeBerFlat(input, limits);
    const rows: Row[] = [];
    for (let i = 0; i < f.count; i++)
      rows.push([
        f.table[4 * i + ID]!,
        f.table[4 * i + START]!,
        f.table[4 * i + END]!,
        f.table[4 * i + NEXT]!,
      ]);
    return rows;
  });
  assert.deepEqual(got, want, Buffer.from(input).toString("hex").slice(0, 200));
  return "rows" in want;
}

/** A random value: primitives and constructed values in short, long and indefinite forms. */
function randomValue(rnd: () => number, depth: number): number[] {
  const constructed = depth < 6 && rnd() < 0.5;
  const tag = rnd() < 0.9 ? Math.floor(rnd() * 31) : 31 + Math.floor(rnd() * 300);
  const cls = Math.floor(rnd() * 4);
  const idBytes =
    tag < 31
      ? [(cls << 6) | (constructed ? 0x20 : 0) | tag]
      : [
          (cls << 6) | (constructed ? 0x20 : 0) | 0x1f,
          ...(tag >= 128 ? [0x80 | (tag >> 7)] : []),
          tag & 0x7f,
        ];
  let content: number[] = [];
  if (constructed) {
    const n = Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) content.push(...randomValue(rnd, depth + 1));
    if (rnd() < 0.3) return [...idBytes, 0x80, ...content, 0, 0];
  } else content = Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 256));
  const n = content.length;
  const len = rnd() < 0.2 ? [0x82, n >> 8, n & 0xff] : n < 128 ? [n] : [0x81, n];
  return [...idBytes, ...len, ...content];
}

test("the loop reader gives the recursive reader's table and errors", () => {
  const rnd = prng(2026);
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < 20000; i++) {
    const value = Uint8Array.from(randomValue(rnd, 0));
    const k = i % 5;
    let input: Uint8Array = value;
    if (k === 1) input = mutate(value, rnd);
    else if (k === 2) input = value.subarray(0, Math.floor(rnd() * value.length));
    else if (k === 3) input = randomInput(rnd, 64);
    const limits =
      k === 4
        ? {
            maxBytes: 8 + Math.floor(rnd() * 200),
            maxDepth: 1 + Math.floor(rnd() * 6),
            maxNodes: 1 + Math.floor(rnd() * 30),
          }
        : DEFAULT_BER_LIMITS;
    if (compare(input, limits)) accepted++;
    else refused++;
  }
  // Deep nesting in both forms, at and past the depth limit.
  for (const depth of [15, 16, 17, 40]) {
    const definite: number[] = [0x05, 0x00];
    let v = definite;
    for (let d = 1; d < depth; d++) v = [0x30, ...(v.length < 128 ? [v.length] : [0x81, v.length]), ...v];
    compare(Uint8Array.from(v));
    const open = Array.from({ length: depth - 1 }, () => [0x30, 0x80]).flat();
    compare(Uint8Array.from([...open, 0x05, 0x00, ...Array.from({ length: 2 * (depth - 1) }, () => 0)]));
  }
  assert.ok(accepted > 3000 && refused > 3000, `accepted ${accepted}, refused ${refused}`);
});
