// The word lists read texts of Latin, General Punctuation and Currency Symbols characters through
// per-character tables (content-check.ts TABLE_RANGES, issue 19): exact only if each character's
// reading does not depend on its neighbours. Checked here for every pair of them, and for random
// longer texts, against the full readings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readings, TABLE_RANGES } from "../src/content-check.js";

const chars: string[] = [];
for (const [from, to] of TABLE_RANGES) for (let c = from; c < to; c++) chars.push(String.fromCharCode(c));

test("every pair of table characters reads as the two readings joined", () => {
  let checked = 0;
  for (const a of chars) {
    // The ASCII letters and digits behave alike; every other character is paired with all.
    if (/[A-Za-z0-9]/.test(a) && a !== "a" && a !== "Z" && a !== "5") continue;
    for (const b of chars) {
      const t = a + b;
      const small = readings.small(t);
      if (readings.tableSmall(t) !== small)
        assert.fail(`small reading of U+${a.charCodeAt(0).toString(16)} U+${b.charCodeAt(0).toString(16)}`);
      const capital = readings.capital(t);
      if (readings.tableCapital(t) !== capital)
        assert.fail(`capital reading of U+${a.charCodeAt(0).toString(16)} U+${b.charCodeAt(0).toString(16)}`);
      checked++;
    }
  }
  assert.ok(checked > 300_000, `${checked}`);
});

test("random texts of table characters read as the full readings read them", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let n = 0; n < 20_000; n++) {
    let t = "";
    const len = Math.floor(next() * 12);
    for (let i = 0; i < len; i++) t += chars[Math.floor(next() * chars.length)];
    assert.equal(readings.tableSmall(t), readings.small(t), JSON.stringify(t));
    assert.equal(readings.tableCapital(t), readings.capital(t), JSON.stringify(t));
  }
});

test("a character outside the tables is read the full way", () => {
  assert.equal(readings.tableSmall("caf\u00e9 \u0430"), undefined); // Cyrillic а
  assert.equal(readings.tableSmall("\u{1D41E}"), undefined); // mathematical bold e (a surrogate pair)
  assert.equal(readings.tableSmall("e\u0301"), undefined); // a combining mark
});
