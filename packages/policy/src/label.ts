// Security labels: a policy, one classification and a set of categories (X.841 §8 / RFC 2634 §5.3.2),
// with the ACDF data precomputed at construction time.
import { categoryBits, inPolicyOrder, isPermissive, isRestrictive } from "./category.js";
import { InvalidArgumentError } from "./errors.js";
import type { Category, Classification, Policy } from "./spif/model.js";

/** Precomputed ACDF inputs: (word, mask) pairs over the clearance's category bitset. */
export interface LabelAcdfData {
  /** Restrictive categories: every (word, mask) must be fully held. */
  readonly restrictive: Int32Array;
  /** Permissive groups (one per tag): each needs at least one (word, mask) hit. */
  readonly permissive: readonly Int32Array[];
}

export interface Label {
  readonly policy: Policy;
  readonly classification: Classification;
  /** Categories in policy order, without duplicates. */
  readonly categories: readonly Category[];
  /** RFC 2634 ESSPrivacyMark, when the label carried one (display only; never used for decisions). */
  readonly privacyMark: string | undefined;
  /** The original DER/BER bytes when the label was received in that form. */
  readonly encoded: Uint8Array | undefined;
  /** @internal */
  readonly acdf: LabelAcdfData;
}

function pairs(cats: readonly Category[]): Int32Array {
  const words = new Map<number, number>();
  for (const c of cats) words.set(c.index >>> 5, (words.get(c.index >>> 5) ?? 0) | (1 << (c.index & 31)));
  const out = new Int32Array(words.size * 2);
  let i = 0;
  for (const [w, m] of words) {
    out[i++] = w;
    out[i++] = m;
  }
  return out;
}

function acdfData(categories: readonly Category[]): LabelAcdfData {
  const restrictive = categories.filter((c) => isRestrictive(c.tagType));
  // X.841 permissive rule: categories of the same tag form one group (grouped by tag identity).
  const groups = new Map<unknown, Category[]>();
  for (const c of categories) {
    if (!isPermissive(c.tagType)) continue;
    const g = groups.get(c.tag);
    if (g) g.push(c);
    else groups.set(c.tag, [c]);
  }
  return { restrictive: pairs(restrictive), permissive: [...groups.values()].map(pairs) };
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
  const cats = inPolicyOrder(categories);
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
