// Security labels: a policy, one classification and a set of categories (X.841 §8 / RFC 2634 §5.3.2),
// with the ACDF data precomputed at construction time.
import { categoryBits, inPolicyOrder, isPermissive, isRestrictive } from "./category.js";
import { InvalidArgumentError } from "./errors.js";
import type { Category, Classification, Policy, Tag } from "./spif/model.js";

/**
 * Precomputed ACDF inputs: (word, mask) pairs over the clearance's category bitset, masks as
 * signed 32-bit values. Plain lists, not typed arrays: a label is made per stanza, and a list of
 * two numbers is a fraction of a typed array's allocation (its buffer object and its backing
 * store; the ACDF pairs were more than half of the bytes a parsed label allocated).
 */
export interface LabelAcdfData {
  /** Restrictive categories: every (word, mask) must be fully held. */
  readonly restrictive: readonly number[];
  /** Permissive groups (one per tag): each needs at least one (word, mask) hit. */
  readonly permissive: readonly (readonly number[])[];
}

export interface Label {
  readonly policy: Policy;
  readonly classification: Classification;
  /** Categories in policy order, without duplicates. */
  readonly categories: readonly Category[];
  /** RFC 2634 ESSPrivacyMark, when the label carried one (display only; never used for decisions). */
  readonly privacyMark: string | undefined;
  /**
   * The original DER/BER bytes when the label was received in that form (from base64 text: the
   * `Buffer` that decoded it, a view of Node's shared pool — a cache keeps retainedLabel's copy).
   */
  readonly encoded: Uint8Array | undefined;
  /** @internal */
  readonly acdf: LabelAcdfData;
}

// Shared by every label without such categories: frozen, as the Int32Array(0) before them could not
// grow (a push through one label's list would have changed every other's). Found in review (adv55).
const NO_PAIRS: readonly number[] = Object.freeze([]);
const NO_GROUPS: readonly (readonly number[])[] = Object.freeze([]);

/**
 * The pairs being made (the first `n` entries): one list for every call, copied out at its length
 * — one word's pair as a list of two.
 */
const pending: number[] = [];

/** Add category index `index` to the pairs in `pending` (`n` entries so far); returns the new n. */
function addPair(n: number, index: number): number {
  const w = index >>> 5;
  if (n === 0 || pending[n - 2] !== w) {
    pending[n] = w;
    pending[n + 1] = 0;
    n += 2;
  }
  pending[n - 1] = pending[n - 1]! | (1 << (index & 31));
  return n;
}

function pendingPairs(n: number): readonly number[] {
  if (n === 0) return NO_PAIRS;
  return n === 2 ? [pending[0]!, pending[1]!] : pending.slice(0, n);
}

/**
 * (word, mask) pairs of the categories `of` selects (`of` a tag: its permissive categories; else
 * the restrictive ones), given in policy order (ascending index, so words ascend too).
 */
function pairs(cats: readonly Category[], of: Tag | undefined): readonly number[] {
  let n = 0;
  for (const c of cats) {
    if (of ? c.tag !== of || !isPermissive(c.tagType) : !isRestrictive(c.tagType)) continue;
    n = addPair(n, c.index);
  }
  return pendingPairs(n);
}

/**
 * `categories` in policy order (makeLabel's). X.841 permissive rule: the permissive categories of
 * one tag form one group (grouped by tag identity), groups in the order their tags first appear.
 * A policy loaded from a SPIF numbers a tag's categories consecutively, so a group is one run of
 * the list (consecutive permissive categories of one tag): one pass finds the runs, and each
 * run's pairs are made from its start. A tag met again in a later run (any other policy) makes
 * the groups by a map, as before. Linear in the list either way: a label naming every category
 * of a policy of many permissive tags costs no more per category than a short one.
 */
function acdfData(categories: readonly Category[]): LabelAcdfData {
  let groups = 0;
  let seen: Set<Tag> | undefined;
  let runs = true;
  // The tag of the previous category when permissive, else undefined: a run is broken by any
  // category not a permissive one of its tag (the Policy interface does not make a tag's
  // categories share its type; only loadPolicy does).
  let prev: Tag | undefined;
  for (let i = 0; i < categories.length && runs; i++) {
    const c = categories[i]!;
    const tag = isPermissive(c.tagType) ? c.tag : undefined;
    if (tag !== undefined && tag !== prev) {
      if (groups > 0) {
        // A short list is searched; a long one is indexed once (no search per run).
        if (seen === undefined && groups >= 8) {
          seen = new Set();
          for (let k = 0; k < groups; k++) seen.add(runTags[k]!);
        }
        if (seen) runs = !seen.has(tag);
        else for (let k = 0; k < groups && runs; k++) runs = runTags[k] !== tag;
      }
      runStarts[groups] = i;
      runTags[groups++] = tag;
      seen?.add(tag);
    }
    prev = tag;
  }
  // Emptied by overwriting (setting its length is a call into the engine); no tag is kept.
  for (let k = 0; k < groups; k++) runTags[k] = undefined;
  let permissive = NO_GROUPS;
  if (groups > 0) {
    if (runs) {
      // One list per group, made at its length (one or two groups: a literal).
      if (groups === 1) permissive = [pairsOfRun(categories, runStarts[0]!)];
      else if (groups === 2)
        permissive = [pairsOfRun(categories, runStarts[0]!), pairsOfRun(categories, runStarts[1]!)];
      else {
        const out: (readonly number[])[] = [];
        for (let k = 0; k < groups; k++) out.push(pairsOfRun(categories, runStarts[k]!));
        permissive = out;
      }
    } else permissive = groupedPairs(categories);
  }
  return { restrictive: pairs(categories, undefined), permissive };
}

/** Where the runs acdfData has met so far start (the first `groups`): one list for every call. */
const runStarts: number[] = [];
/** The tags of the runs acdfData has met so far (the first `groups`): one list for every call. */
const runTags: (Tag | undefined)[] = [];

/** pairs(cats, tag) for the run of permissive categories of one tag starting at `first`. */
function pairsOfRun(cats: readonly Category[], first: number): readonly number[] {
  const tag = cats[first]!.tag;
  let n = 0;
  for (let i = first; i < cats.length && cats[i]!.tag === tag && isPermissive(cats[i]!.tagType); i++)
    n = addPair(n, cats[i]!.index);
  return pendingPairs(n);
}

/** The permissive groups by a map from tag to its categories, in the order tags first appear. */
function groupedPairs(cats: readonly Category[]): (readonly number[])[] {
  const groups = new Map<Tag, Category[]>();
  for (const c of cats) {
    if (!isPermissive(c.tagType)) continue;
    const g = groups.get(c.tag);
    if (g) g.push(c);
    else groups.set(c.tag, [c]);
  }
  const out: (readonly number[])[] = [];
  for (const [tag, g] of groups) out.push(pairs(g, tag));
  return out;
}

export interface MakeLabelOptions {
  readonly privacyMark?: string | undefined;
  readonly encoded?: Uint8Array | undefined;
}

/** Build a label from policy objects (used by every decoder and by catalogs). */
export function makeLabel(
  policy: Policy,
  classification: Classification,
  categories: Iterable<Category>,
  options: MakeLabelOptions = {},
): Label {
  if (policy.classifications[classification.index] !== classification)
    throw new InvalidArgumentError("Classification is not from this policy");
  return labelOf(policy, classification, inPolicyOrder(categories), options);
}

/**
 * makeLabel for a decoder that hands over a fresh array of its own (`owned`, not kept by it): when
 * already in policy order without duplicates it becomes the label's, not a copy of it.
 */
export function makeDecodedLabel(
  policy: Policy,
  classification: Classification,
  owned: Category[],
  options: MakeLabelOptions,
): Label {
  if (policy.classifications[classification.index] !== classification)
    throw new InvalidArgumentError("Classification is not from this policy");
  return labelOf(policy, classification, sortOwned(owned), options);
}

/**
 * inPolicyOrder in place, for the short lists a label carries: a stable insertion sort by index,
 * then the same object met again dropped (two objects of one index can only come from two
 * policies, and labelOf refuses that as it did).
 */
function sortOwned(cats: Category[]): Category[] {
  let ordered = true;
  for (let i = 1; i < cats.length && ordered; i++) ordered = cats[i - 1]!.index < cats[i]!.index;
  if (ordered) return cats;
  if (cats.length > 64) return inPolicyOrder(cats);
  for (let i = 1; i < cats.length; i++) {
    const c = cats[i]!;
    let j = i - 1;
    while (j >= 0 && cats[j]!.index > c.index) {
      cats[j + 1] = cats[j]!;
      j--;
    }
    cats[j + 1] = c;
  }
  let n = 0;
  for (let i = 0; i < cats.length; i++) {
    const c = cats[i]!;
    let seen = false;
    for (let k = n - 1; k >= 0 && cats[k]!.index === c.index && !seen; k--) seen = cats[k] === c;
    if (!seen) cats[n++] = c;
  }
  cats.length = n;
  return cats;
}

/** `cats` in policy order without duplicates, and the label's own. */
function labelOf(
  policy: Policy,
  classification: Classification,
  cats: readonly Category[],
  options: MakeLabelOptions,
): Label {
  for (const c of cats)
    if (policy.categories[c.index] !== c) throw new InvalidArgumentError("Category is not from this policy");
  return {
    policy,
    classification,
    categories: cats,
    privacyMark: options.privacyMark,
    encoded: options.encoded,
    acdf: acdfData(cats),
  };
}

/** The category bitset of a label (policy order). */
export function labelBits(label: Label): Uint32Array {
  return categoryBits(label.policy, label.categories);
}

/** Structural equality: same policy id, classification lacv and category set. */
export function sameLabel(a: Label, b: Label): boolean {
  if (a.policy.id !== b.policy.id || a.classification.lacv !== b.classification.lacv) return false;
  if (a.categories.length !== b.categories.length) return false;
  for (let i = 0; i < a.categories.length; i++) {
    const x = a.categories[i]!;
    const y = b.categories[i]!;
    if (x.tagSet.id !== y.tagSet.id || x.tagType !== y.tagType || x.lacv !== y.lacv) return false;
  }
  return true;
}
