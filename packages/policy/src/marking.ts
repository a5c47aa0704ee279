// Display markings computed from the policy (XML-SPIF markingData/markingQualifier; algorithm as in
// docs/spif.md §6), always for the pageBottom location.
import type { Clearance } from "./clearance.js";
import type { Label } from "./label.js";
import { Flag } from "./spif/model.js";
import type { Category, Classification, Marking, MarkingEntry, MarkingSet } from "./spif/model.js";

/** Marking lookup: exact tag, then primary subtag, then untagged. */
export function selectMarking(set: MarkingSet, lang: string): Marking | undefined {
  const exact = set.get(lang);
  if (exact) return exact;
  const cut = lang.search(/[-_]/);
  if (cut > 0) {
    const primary = set.get(lang.slice(0, cut));
    if (primary) return primary;
  }
  return set.get("");
}

function bottomEntry(m: Marking): MarkingEntry | undefined {
  for (const e of m.entries) if (e.flags & Flag.PageBottom) return e;
  return undefined;
}

function phrase(m: Marking, name: string): string {
  const e = bottomEntry(m);
  if (!e) return name;
  if (e.flags & Flag.NoNameDisplay) return "";
  if (e.flags & Flag.ReplacePolicy || e.phrase === undefined) return name;
  return e.phrase;
}

function hasFlag(m: Marking | undefined, flag: number): boolean {
  if (!m) return false;
  const e = bottomEntry(m);
  return e !== undefined && (e.flags & flag) !== 0;
}

function policyPhrase(m: Marking, name: string): string {
  for (const e of m.entries) if (e.flags & (Flag.PageBottom | Flag.ReplacePolicy)) return e.phrase ?? name;
  return name;
}

function categoryMarkings(start: string, cats: readonly Category[], sep: string, lang: string): string {
  let s = start;
  let cur: unknown = undefined;
  let tagSuffix = "";
  let tagSep = "/";
  for (const c of cats) {
    const m = selectMarking(c.markings, lang) ?? selectMarking(c.tag.markings, lang);
    const p = m ? phrase(m, c.name) : c.name;
    if (p === "") continue;
    if (c.tag !== cur) {
      cur = c.tag;
      s += tagSuffix;
      if (s !== "") s += sep;
      const t = selectMarking(c.tag.markings, lang);
      tagSuffix = t?.suffix ?? "";
      tagSep = t?.sep || "/";
      s += t?.prefix ?? "";
    } else s += tagSep;
    s += p;
  }
  return s + tagSuffix;
}

/** The label's display marking in its policy, for language `lang` ("" = untagged markings). */
export function labelMarking(label: Label, lang = ""): string {
  const policy = label.policy;
  const mp = selectMarking(policy.markings, lang);
  const mc = selectMarking(label.classification.markings, lang);
  const className = label.classification.name;
  const sep = mp?.sep || " ";
  let suppress = false;
  let catReplace: { m: Marking; name: string } | undefined;
  for (const c of label.categories) {
    const own = selectMarking(c.markings, lang);
    if (hasFlag(own, Flag.SuppressClassName)) suppress = true;
    if (!catReplace && own && hasFlag(own, Flag.ReplacePolicy)) catReplace = { m: own, name: c.name };
  }
  let s: string;
  if (mp && hasFlag(mp, Flag.ReplacePolicy)) s = policyPhrase(mp, policy.name);
  else if (mc && hasFlag(mc, Flag.ReplacePolicy)) s = policyPhrase(mc, className);
  else if (catReplace) s = policyPhrase(catReplace.m, catReplace.name);
  else s = policy.name;
  if (!suppress) {
    if (s !== "") s += sep;
    s += mc ? phrase(mc, className) : mp ? phrase(mp, className) : className;
  }
  s = categoryMarkings(s, label.categories, sep, lang);
  return (mp?.prefix ?? "") + s + (mp?.suffix ?? "");
}

function className(c: Classification): string {
  return c.name;
}

/** The clearance's display marking: `prefix{CLASS|CLASS…} categories…suffix`, classes by hierarchy. */
export function clearanceMarking(clearance: Clearance, lang = ""): string {
  const policy = clearance.policy;
  const mp = selectMarking(policy.markings, lang);
  let classes: string;
  if (clearance.classifications.length > 0) classes = clearance.classifications.map(className).join("|");
  else classes = policy.classificationByLacv.get(0)?.name ?? "unclassified (auto)";
  const s = categoryMarkings(
    (mp?.prefix ?? "") + "{" + classes + "}",
    clearance.categories,
    mp?.sep || " ",
    lang,
  );
  return s + (mp?.suffix ?? "");
}

/** Display colours for a label, from the classification's SPIF `color` (bg) and a contrasting fg. */
export interface MarkingColours {
  readonly fgcolor: string | undefined;
  readonly bgcolor: string | undefined;
}

const NAMED: Readonly<Record<string, [number, number, number]>> = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  red: [255, 0, 0],
  green: [0, 128, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  orange: [255, 165, 0],
  gold: [255, 215, 0],
  purple: [128, 0, 128],
  gray: [128, 128, 128],
  grey: [128, 128, 128],
  amber: [255, 191, 0],
  navy: [0, 0, 128],
  maroon: [128, 0, 0],
  lime: [0, 255, 0],
};

function rgb(color: string): [number, number, number] | undefined {
  const c = color.trim().toLowerCase();
  const named = NAMED[c];
  if (named) return named;
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(c);
  if (!m) return undefined;
  const h = m[1]!.length === 3 ? [...m[1]!].map((x) => x + x).join("") : m[1]!;
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** Colours for the label's classification; fg is black or white by relative luminance of bg. */
export function markingColours(classification: Classification): MarkingColours {
  const bg = classification.color;
  if (!bg) return { fgcolor: undefined, bgcolor: undefined };
  const v = rgb(bg);
  if (!v) return { fgcolor: undefined, bgcolor: bg };
  const lum = 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  return { fgcolor: lum > 140 ? "black" : "white", bgcolor: bg };
}
