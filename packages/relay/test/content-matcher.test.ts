// The compiled word lists (one regular expression per list and reading, over the texts normalised
// and joined) decide exactly what the word-by-word matcher they replaced decided: that matcher is
// kept here as the reference, and both read the same random texts — listed words, their plurals
// and stems, phrases split by punctuation or by the boundary between two texts, look-alike and
// full-width letters, invisible characters, accents, capitals — with a fixed seed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { capitalWords, compileContent, foldText, words } from "../src/content-check.js";

interface Term {
  word: string;
  stem: boolean;
}

function pluralForms(word: string): string[] {
  const forms = [word, `${word}s`, `${word}es`];
  if (word.endsWith("y") && word.length > 1) forms.push(`${word.slice(0, -1)}ies`);
  return forms;
}

function termMatches(term: Term, token: string): boolean {
  if (term.stem) return token.startsWith(term.word);
  return pluralForms(term.word).includes(token);
}

function phrases(entries: readonly string[], read: (text: string) => string[]): Term[][] {
  const out: Term[][] = [];
  for (const entry of entries) {
    const stem = entry.trimEnd().endsWith("*");
    const seq = read(entry);
    if (seq.length > 0) out.push(seq.map((word, i) => ({ word, stem: stem && i === seq.length - 1 })));
  }
  return out;
}

function matches(tokens: readonly string[], list: Term[][]): boolean {
  for (let i = 0; i < tokens.length; i++)
    for (const p of list) {
      let j = 0;
      while (j < p.length && tokens[i + j] !== undefined && termMatches(p[j]!, tokens[i + j]!)) j++;
      if (j === p.length) return true;
    }
  return false;
}

const isAscii = (t: string) => [...t].every((c) => c.charCodeAt(0) < 0x80);

/** The matcher the compiled lists replaced: texts split into words, lists compared word by word. */
function reference(lists: { words: string[]; classifications?: string[] }[]) {
  const compiled = lists.map((l) => ({
    small: phrases(l.words, words),
    capital: phrases(l.words, capitalWords),
    classifications: l.classifications ? new Set(l.classifications.map(foldText)) : undefined,
  }));
  return (texts: readonly string[], classification: string | undefined): number => {
    const folded = classification === undefined ? undefined : foldText(classification);
    for (let m = 0; m < compiled.length; m++) {
      const c = compiled[m]!;
      if (c.classifications && (folded === undefined || !c.classifications.has(folded))) continue;
      if (matches(texts.flatMap(words), c.small)) return m;
      const capitals = texts.some((t) => !isAscii(t)) ? texts.flatMap(capitalWords) : [];
      if (matches(capitals, c.capital)) return m;
    }
    return -1;
  };
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LISTS = [
  { words: ["excalibur", "operation dawn", "sword*"] },
  { words: ["draft", "policy", "night watch*"], classifications: ["RED"] },
  { words: ["ΧΑΟΣ", "café", "x-ray", "c++", "42"] },
  { words: ["*", "  ", "party"] },
];

const PIECES = [
  "excalibur",
  "Excaliburs",
  "EXCALIBURES",
  "excaliburx",
  "sub",
  "operation",
  "operations",
  "Dawn",
  "dawns",
  "sword",
  "swordfish",
  "sw",
  "draft",
  "drafting",
  "policy",
  "policies",
  "polic",
  "night",
  "watchers",
  "watch",
  "χαος",
  "ΧΑΟΣ",
  "chaos",
  "café",
  "cafe",
  "CAFÉ",
  "x",
  "ray",
  "c",
  "42",
  "420",
  "party",
  "parties",
  "partys",
  "\u0435\u0445\u0441\u0430libur", // Cyrillic е х с а
  "exca\u0142ibur", // ł
  "\uFF45\uFF58\uFF43alibur", // full-width
  "ex\u200Bcalibur", // zero-width space
  "ex\u00ADcalibur", // soft hyphen
  "e\u0301xcalibur", // combining acute
  "\u1D07x\u1D04\u1D00\u029F\u026A\u0299\u1D1C\u0280", // small capitals
  "Straße",
  "ﬁ",
  "\u3164",
];
const GLUE = [" ", "  ", "-", ".", ", ", "\n", "", "_", "/", "'", "\u00A0", "\u3000", "+", "é", "1"];

describe("compiled word lists", () => {
  test("decide as the word-by-word matcher did, on 4,000 random texts", () => {
    const next = random(19);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const checker = compileContent(LISTS);
    const ref = reference(LISTS);
    let hits = 0;
    for (let n = 0; n < 4000; n++) {
      const texts: string[] = [];
      const count = 1 + Math.floor(next() * 3);
      for (let t = 0; t < count; t++) {
        let s = "";
        const parts = Math.floor(next() * 6);
        for (let p = 0; p < parts; p++) s += pick(PIECES) + pick(GLUE);
        texts.push(s);
      }
      const cls = pick([undefined, "RED", "red", "AMBER"]);
      const expected = ref(texts, cls);
      if (expected >= 0) hits++;
      assert.equal(checker.check(texts, cls), expected, JSON.stringify({ texts, cls }));
    }
    // Both outcomes were exercised, many times.
    assert.ok(hits > 500 && hits < 3500, `hits ${hits}`);
  });

  test("a phrase runs from one text into the next, as it did", () => {
    const checker = compileContent([{ words: ["operation dawn"] }]);
    assert.equal(checker.check(["the operation", "dawn"], undefined), 0);
    assert.equal(checker.check(["the operation", "x", "dawn"], undefined), -1);
  });
});
