// The normalisation every JID key goes through, so that one address has one spelling in the store,
// in notifications and in every component's maps. The servers decide which spellings name one
// account, so the localpart and domainpart are folded as they are: Prosody 0.12 and ejabberd 23.01
// key accounts by stringprep (RFC 3454) nodeprep / nameprep (RFC 3920 Appendix A, RFC 3491):
//  - map to nothing the characters of RFC 3454 table B.1 (soft hyphen, zero-width joiners,
//    variation selectors, …);
//  - case fold as table B.2 (full case folding, with the NFKC additions: "ß" is "ss", "ſ" is "s",
//    "ς" is "σ", "ℌ" is "h"; the dotless "ı" stays itself);
//  - normalise to NFKC (compatibility forms: the ligature "ﬁ" is "fi", fullwidth "ｆ" is "f").
// NFC alone, or lower case alone, is not enough: ejabberd puts the JID into stanzas as the client
// wrote it at login ("ﬁnn@…" for the account finn, measured), and an LDAP directory matching
// `jid` with caseIgnoreMatch folds compatibility forms too, so a component that keyed "ﬁnn@…"
// apart from "finn@…" would read finn's directory clearance but miss an administrator's lowering of
// it stored under finn@… (and its notification). RFC 7622 §3.3.2 (PRECIS UsernameCaseMapped)
// agrees on every JID that PRECIS allows. The resourcepart (RFC 7622 §3.4.2, OpaqueString) is NFC
// only, its case kept: no clearance is keyed by it.
//
// The servers' tables are Unicode 3.2: what today's Unicode folds but 3.2 did not (characters
// assigned since, case pairs completed since) is kept as it is, and five CJK compatibility
// ideographs decompose as 3.2 had it (unicode32.ts). Checked against Prosody's nodeprep on every
// code point and on random strings.
import { KEPT_AS_IS, OLD_DECOMPOSITIONS } from "./unicode32.js";

/** RFC 3454 table B.1: commonly mapped to nothing (a set: some are combining characters). */
const MAPPED_TO_NOTHING = new Set([0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200b, 0x200c, 0x200d]);
for (const cp of [0x2060, 0xfeff]) MAPPED_TO_NOTHING.add(cp);
for (let cp = 0xfe00; cp <= 0xfe0f; cp++) MAPPED_TO_NOTHING.add(cp);

/** One code point case folded as RFC 3454 table B.2 does (full case folding). */
function foldCase(c: string): string {
  // Upper then lower case is Unicode full case folding for every character but the dotless i
  // (U+0131), which case folding leaves alone ("I" folds to "i", not back to "ı"). One code point
  // at a time: String.prototype.toLowerCase maps a word-final capital sigma to "ς", folding to "σ".
  return c === "\u0131" ? c : c.toUpperCase().toLowerCase();
}

/** Whether nodeprep keeps `cp` as it is where today's Unicode would fold it (unicode32.ts). */
function keptAsIs(cp: number): boolean {
  let lo = 0;
  let hi = KEPT_AS_IS.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [first, last] = KEPT_AS_IS[mid]!;
    if (cp < first) hi = mid - 1;
    else if (cp > last) lo = mid + 1;
    else return true;
  }
  return false;
}

/** stringprep's mapping and normalisation steps (RFC 3454 §3, §4) under B.1 and B.2: nodeprep, nameprep. */
function stringprepFold(s: string): string {
  // Fast path: ASCII needs only lower case.
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/u.test(s)) return s.toLowerCase();
  // Character by character, as stringprep maps before it normalises: NFKC of the whole string
  // first would reorder combining marks that case folding then turns into letters (U+0345). A
  // character Unicode 3.2 did not fold is kept, and normalisation does not reach across it.
  let out = "";
  let run = "";
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (MAPPED_TO_NOTHING.has(cp)) continue;
    const old = OLD_DECOMPOSITIONS.get(cp);
    if (old !== undefined) run += old;
    else if (keptAsIs(cp)) {
      out += run.normalize("NFKC") + c;
      run = "";
    } else for (const d of c.normalize("NFKC")) run += foldCase(d);
  }
  return out + run.normalize("NFKC");
}

/** A localpart as it is compared: nodeprep's mapping (B.1, B.2 case folding, NFKC). */
export function foldLocalpart(local: string): string {
  return stringprepFold(local);
}

/** A domainpart as it is compared: nameprep's mapping (B.1, B.2, NFKC), without a trailing dot. */
export function foldDomainpart(domain: string): string {
  const d = stringprepFold(domain);
  return d.endsWith(".") ? d.slice(0, -1) : d;
}

/** A resourcepart as it is compared: NFC, case kept. */
export function foldResourcepart(resource: string): string {
  return resource.normalize("NFC");
}
