// Content check: configured word and phrase lists, matched on whole words after Unicode
// normalisation (NFKC, UAX #15 https://unicode.org/reports/tr15/) and full case folding, in every
// text and attribute value a stanza carries across: bodies, subjects and threads (RFC 6121
// §5.2.3-5.2.5), XHTML-IM (XEP-0071) and every other payload (invitations and their reasons
// XEP-0045/0249, spoiler hints XEP-0382, nicknames XEP-0172...: clients show many of them).
// Format characters (zero-width joiners, spaces and marks, category Cf) are removed first so they
// cannot split a word. A list may apply only to some label classifications.
import { isElement, xml, NS_SEC_LABEL, type Element } from "@cordon/component";
import type { WordList } from "./peering.js";
import { displayedText } from "./shape.js";
import { internalized } from "@cordon/policy";
import { skeleton } from "./confusables.js";

/**
 * Compatibility decomposition (NFKD), then everything invisible removed — format characters,
 * default-ignorable code points (fillers, variation selectors, CGJ) and combining marks, so none
 * of them can split or disguise a word (accents are dropped: matching is accent-insensitive) —
 * then NFKC and full case folding (upper then lower: ß → ss, ς → σ).
 */
export function foldText(text: string): string {
  return caseFold(visible(text));
}

/** Compatibility decomposition, everything invisible removed, recomposed (see foldText). */
function visible(text: string): string {
  return (
    text
      .normalize("NFKD")
      // Hangul fillers are letters that render as blank space: they separate words.
      .replace(/[\u115F\u1160\u3164\uFFA0]/gu, " ")
      .replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}\p{M}]/gu, "")
      .normalize("NFKC")
  );
}

/**
 * Case folding as upper then lower case (ß → ss, ς → σ). Capital sharp s ẞ (U+1E9E) is the one
 * code point that reads otherwise once lower-cased first: its upper case is itself, its lower case
 * ß, whose folding is "ss" — so it is written "SS" (found in review adv12r: a list bound to
 * classification "STRASSE" did not apply to a policy's "STRAẞE"). test/content-check.test.ts
 * checks every code point: folding a fold changes nothing.
 */
function caseFold(text: string): string {
  const upper = text.toUpperCase();
  return (upper.includes("\u1E9E") ? upper.replace(/\u1E9E/g, "SS") : upper).toLowerCase().normalize("NFKC");
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The words of a text, folded as foldText does, each character then replaced by its UTS #39
 * prototype (confusables.ts: Cyrillic "а" reads as "a"). The data maps capitals and small letters
 * apart (Greek "Χ" is a look-alike of "X", "χ" of no Latin letter): `capitalWords` reads the same
 * text through its capitals, and a word list matches either reading.
 */
export function words(text: string): string[] {
  // ASCII has nothing to decompose, hide or look alike: lower case is its whole folding.
  if (isAscii(text)) return text.toLowerCase().match(WORD) ?? [];
  // Folded again after the skeleton: UTS #39 maps a letter with a stroke to the letter and a
  // combining overlay (ł → l U+0338), a mark that would otherwise split the word in two.
  return foldText(skeleton(foldText(text))).match(WORD) ?? [];
}

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

function isAscii(text: string): boolean {
  return ASCII.test(text);
}

/** The words of a text read through its capitals: upper-cased, look-alikes replaced, folded. */
export function capitalWords(text: string): string[] {
  return foldText(skeleton(visible(text).toUpperCase())).match(WORD) ?? [];
}

/**
 * One word of a listed phrase: matched exactly, with its plural forms (English: +s, +es, y → ies),
 * or — written with a trailing `*` — as a stem (any word it starts).
 */
interface Term {
  word: string;
  stem: boolean;
}

function pluralForms(word: string): string[] {
  const forms = [word, `${word}s`, `${word}es`];
  if (word.endsWith("y") && word.length > 1) forms.push(`${word.slice(0, -1)}ies`);
  return forms;
}

/** A listed entry as terms: its words, the last a stem when the entry ends with `*`. */
function terms(entry: string, read: (text: string) => string[]): Term[] {
  const stem = entry.trimEnd().endsWith("*");
  const seq = read(entry);
  return seq.map((word, i) => ({ word, stem: stem && i === seq.length - 1 }));
}

/** A word character as WORD reads one (a letter or a number): what separates words is anything else. */
const W = "[\\p{L}\\p{N}]";
const SEP = "[^\\p{L}\\p{N}]+";

const escape = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

/**
 * A list's phrases as one regular expression over a normalised text (as `check` reads the texts): a phrase
 * matches where its words are consecutive words of the text — each term a whole word (one of its
 * plural forms) or, for a stem, the start of one; between them anything that is not a word
 * character, as between the words WORD finds. Undefined when the list has no phrase (matches nothing).
 */
function phraseRegExp(entries: readonly string[], read: (text: string) => string[]): Phrases | undefined {
  const alternatives: string[] = [];
  const needles: string[] = [];
  for (const entry of entries) {
    const seq = terms(entry, read);
    if (seq.length === 0) continue;
    const parts = seq.map((t) =>
      t.stem ? `${escape(t.word)}${W}*` : `(?:${pluralForms(t.word).map(escape).join("|")})`,
    );
    alternatives.push(parts.join(SEP));
    needles.push(seq.map(needle).reduce((a, b) => (b.length > a.length ? b : a)));
  }
  if (alternatives.length === 0) return undefined;
  return {
    pattern: new RegExp(`(?<!${W})(?:${alternatives.join("|")})(?!${W})`, "u"),
    needles: [...new Set(needles)],
  };
}

/**
 * What every match of a term holds as it is written: the stem, or what the word's plural forms
 * share (the word; without its final `y` when it has an `ies` form). The expression matches a
 * term's text literally (no flag folds case or width), so a text without it cannot match.
 */
function needle(t: Term): string {
  return !t.stem && t.word.endsWith("y") && t.word.length > 1 ? t.word.slice(0, -1) : t.word;
}

/**
 * A list's expression, and for each of its phrases the longest text one of its terms holds in
 * every match (`needle`): a text holding none of them cannot match, and is not run through the
 * expression (whose leading look-behind keeps V8 from skipping ahead: it is tried at every
 * position). A necessary condition only — the expression still decides.
 */
interface Phrases {
  readonly pattern: RegExp;
  readonly needles: readonly string[];
}

function phrasesMatch(phrases: Phrases | undefined, text: string): boolean {
  if (phrases === undefined) return false;
  const needles = phrases.needles;
  for (let i = 0; i < needles.length; i++) if (text.includes(needles[i]!)) return phrases.pattern.test(text);
  return false;
}

interface Matcher {
  /** The list read as `words` and as `capitalWords` read it. */
  small: Phrases | undefined;
  capital: Phrases | undefined;
  classifications: ReadonlySet<string> | undefined;
}

/** A text as `capitalWords` reads it, before its words are split. */
function normalisedCapitals(text: string): string {
  return byTable(text, CAPITAL) ?? foldText(skeleton(visible(text).toUpperCase()));
}

/**
 * The code points whose reading does not depend on their neighbours (Latin up to Latin
 * Extended-B, General Punctuation, Currency Symbols): none is or makes a combining mark another
 * character's could join, a Hangul jamo, or a Greek sigma (whose lower case depends on the next
 * letter). A text of these alone reads as the concatenation of each one's reading — checked for
 * every pair of them in test/content-table.test.ts — so it is read through a table made at start
 * by the full readings of each character alone.
 */
export const TABLE_RANGES: readonly (readonly [number, number])[] = [
  [0x0000, 0x0250],
  [0x2000, 0x2070],
  [0x20a0, 0x20c0],
];

function table(read: (text: string) => string): (string | undefined)[] {
  const out: (string | undefined)[] = new Array<string | undefined>(0x20c0).fill(undefined);
  for (const [from, to] of TABLE_RANGES)
    for (let c = from; c < to; c++) out[c] = read(String.fromCharCode(c));
  return out;
}

const SMALL = table((t) => foldText(skeleton(foldText(t))));
const CAPITAL = table((t) => foldText(skeleton(visible(t).toUpperCase())));
/**
 * Whether both tables read every ASCII character as its lower case (the skeleton applies outside
 * ASCII): then a run of ASCII is read by one `toLowerCase` of the run, not character by character.
 * Computed here, not assumed.
 */
const ASCII_READS_LOWER = [SMALL, CAPITAL].every((read) => {
  for (let c = 0; c < 0x80; c++) if (read[c] !== String.fromCharCode(c).toLowerCase()) return false;
  return true;
});

/** `text` read through a table, or undefined when it has a character the table does not hold. */
function byTable(text: string, read: readonly (string | undefined)[]): string | undefined {
  let out = "";
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (ASCII_READS_LOWER) {
      // Mostly-ASCII texts (Latin with a few accents): each run of ASCII in one piece.
      let j = i;
      while (j < n && text.charCodeAt(j) < 0x80) j++;
      if (j > i) {
        out += text.slice(i, j).toLowerCase();
        i = j;
        if (i === n) break;
      }
    }
    const c = text.charCodeAt(i);
    const r = c < read.length ? read[c] : undefined;
    if (r === undefined) return undefined;
    out += r;
    i++;
  }
  return out;
}

/** For the test: the slow readings, character by character tables aside. */
export const readings = {
  small: (t: string): string => foldText(skeleton(foldText(t))),
  capital: (t: string): string => foldText(skeleton(visible(t).toUpperCase())),
  tableSmall: (t: string): string | undefined => byTable(t, SMALL),
  tableCapital: (t: string): string | undefined => byTable(t, CAPITAL),
};

export interface ContentChecker {
  /** Index of the first list that matches, or -1. */
  check(texts: readonly string[], classification: string | undefined): number;
  readonly empty: boolean;
}

/** How many classification names `foldedName` remembers (a policy names a handful; a reload may name others). */
const FOLDED_NAMES_MAX = 256;
const foldedNames = new Map<string, string>();

/**
 * foldText of a classification name (a policy's, never a sender's), remembered by its exact text:
 * the same few names come with every stanza, and folding one is several normalisations. Bounded:
 * emptied when full; each key its own copy of the name.
 */
export function foldedName(name: string): string {
  let folded = foldedNames.get(name);
  if (folded === undefined) {
    if (foldedNames.size >= FOLDED_NAMES_MAX) foldedNames.clear();
    folded = internalized(foldText(name));
    // Both kept as copies of their own (a name without case, 機密 or digits, folds to itself): a policy's names are slices of its XML text (V8 keeps a slice of
    // 13 characters or more as a view of its parent), and the key would keep that whole text alive
    // after a reload (found in review adv12r: 32 MiB held for one name).
    foldedNames.set(internalized(name), folded);
  }
  return folded;
}

/**
 * The word lists compiled: each list one regular expression per reading. The texts are normalised
 * once per check and joined by a space (no word spans two texts' boundary, and the words of the
 * joined text are the words of each text in turn, as the lists have always read them: a phrase
 * may run from one text into the next).
 */
export function compileContent(lists: readonly WordList[]): ContentChecker {
  const matchers: Matcher[] = lists.map((list) => {
    return {
      small: phraseRegExp(list.words, words),
      capital: phraseRegExp(list.words, capitalWords),
      classifications: list.classifications ? new Set(list.classifications.map(foldText)) : undefined,
    };
  });
  return {
    empty: matchers.length === 0,
    check(texts, classification) {
      if (matchers.length === 0) return -1;
      const folded = classification === undefined ? undefined : foldedName(classification);
      let small: string | undefined;
      let capitals: string | undefined;
      let asciiOnly = true;
      for (let m = 0; m < matchers.length; m++) {
        const matcher = matchers[m]!;
        if (matcher.classifications && (folded === undefined || !matcher.classifications.has(folded)))
          continue;
        if (small === undefined) {
          // Each text as `words` reads it before its words are split (ASCII lower-cased, anything
          // else folded and skeletonised), noting on the way whether every one is ASCII. Texts
          // all ASCII (most stanzas) are joined first and lower-cased once: the joined text is
          // ASCII exactly when each is, and lower-casing ASCII is character by character.
          const joined = texts.join(" ");
          if (isAscii(joined)) small = joined.toLowerCase();
          else {
            const parts = new Array<string>(texts.length);
            for (let i = 0; i < texts.length; i++) {
              const t = texts[i]!;
              if (isAscii(t)) parts[i] = t.toLowerCase();
              else {
                asciiOnly = false;
                parts[i] = byTable(t, SMALL) ?? foldText(skeleton(foldText(t)));
              }
            }
            small = parts.join(" ");
          }
        }
        if (phrasesMatch(matcher.small, small)) return m;
        // ASCII reads the same through its capitals.
        capitals ??= asciiOnly ? "" : texts.map(normalisedCapitals).join(" ");
        if (phrasesMatch(matcher.capital, capitals)) return m;
      }
      return -1;
    },
  };
}

/**
 * Every text an element shows or carries: text nodes and attribute values (XHTML alt, title,
 * href...), and the names the sender chose — element and attribute names and namespace names
 * (`<excalibur xmlns='urn:x'/>`, `<x xmlns='urn:operation:excalibur'/>`): the receiving client
 * holds them as written, so they are text that crosses like any other.
 */
function allText(el: Element): string {
  let s = ` ${el.name} `;
  // for…in: the own attributes in Object.entries' order (a plain object), without its arrays.
  for (const name in el.attrs) s += ` ${name} ${el.attrs[name] ?? ""} `;
  for (const c of el.children) s += isElement(c) ? ` ${allText(c)} ` : c;
  return s;
}

/**
 * Both readings of `el` in one walk: `allText`'s (returned) and, appended to `shown.text`, every
 * text node below it in document order (shape.ts `displayedText`).
 */
function bothTexts(el: Element, shown: { text: string }): string {
  let s = ` ${el.name} `;
  for (const name in el.attrs) s += ` ${name} ${el.attrs[name] ?? ""} `;
  const children = el.children;
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!;
    if (isElement(c)) s += ` ${bothTexts(c, shown)} `;
    else {
      s += c;
      shown.text += c;
    }
  }
  return s;
}

/**
 * The texts of one payload that crosses (an IQ's, iq-control.ts), read as `childTexts` reads a
 * message's children: element by element, names included, and as a client shows it (both read
 * in one walk: test/content-check.test.ts compares them with `allText` and `displayedText`).
 */
export function elementTexts(el: Element): string[] {
  const shown = { text: "" };
  const apart = bothTexts(el, shown);
  return shown.text.trim() !== apart.trim() ? [apart, shown.text] : [apart];
}

/** For the test: the two readings `elementTexts` makes in one walk, each on its own. */
export const separateTexts = {
  apart: allText,
  shown: displayedText,
};

/**
 * The texts of every child but the stanza's own label (replaced by the policy's, never relayed),
 * each read twice: element by element (attribute values and text nodes apart), and as a client
 * shows it — its text nodes joined — so that `exc<b/>alibur` is read as the word a client shows.
 */
function childTexts(stanza: Element): string[] {
  const out: string[] = [];
  for (const c of stanza.children) {
    if (!isElement(c) || (c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL)) continue;
    out.push(...elementTexts(c));
  }
  return out;
}

/** The attributes each text element of a message keeps (RFC 6121 §5.2.3-5.2.5). */
const TEXT_ATTRS: Readonly<Record<string, readonly string[]>> = {
  body: ["xml:lang"],
  subject: ["xml:lang"],
  thread: ["parent"],
};

/**
 * A message's body, subject and thread hold character data only (RFC 6121 Appendix A): each is
 * rebuilt, in place, as the text a client shows of it — its text nodes joined — so what crosses,
 * what the word lists read and what FLOT marks are one text. `inStanzaNs` says which children are
 * the stanza's own.
 */
export function flattenTexts(message: Element, inStanzaNs: (el: Element) => boolean): void {
  message.children = message.children.map((c) => {
    if (!isElement(c) || !inStanzaNs(c)) return c;
    const keep = TEXT_ATTRS[c.name];
    if (!keep || c.children.every((t) => typeof t === "string")) return c;
    const attrs: Record<string, string> = {};
    for (const a of ["xmlns", ...keep]) if (c.attrs[a] !== undefined) attrs[a] = c.attrs[a];
    const flat = xml(c.name, attrs, displayedText(c));
    flat.parent = message;
    return flat;
  });
}

/** The texts of a presence: status messages (RFC 6121 §4.7.2.2) and every other part folding kept (nickname, MUC items...). */
export function presenceTexts(presence: Element): string[] {
  return childTexts(presence);
}

/** The texts of a message: bodies, subjects, threads, XHTML-IM and every other payload it carries. */
export function messageTexts(message: Element): string[] {
  return childTexts(message);
}
