// Clearances: a policy, the set of classifications held and the categories held (X.841 §8.2, RFC 5755 §4.4.6).
import { categoryBits, inPolicyOrder } from "./category.js";
import { InvalidArgumentError } from "./errors.js";
import type { Category, Classification, Policy } from "./spif/model.js";

export interface Clearance {
  readonly policy: Policy;
  /** Classifications held, ordered by hierarchy. */
  readonly classifications: readonly Classification[];
  /** Categories held, in policy order. */
  readonly categories: readonly Category[];
  /** @internal classification index -> 1 when held */
  readonly classBits: Uint8Array;
  /** @internal category bitset over policy order */
  readonly catBits: Uint32Array;
}

/** Build a clearance from policy objects. */
export function makeClearance(
  policy: Policy,
  classifications: Iterable<Classification>,
  categories: Iterable<Category>,
): Clearance {
  const classes = [...new Set(classifications)].sort((a, b) => a.hierarchy - b.hierarchy || a.lacv - b.lacv);
  const classBits = new Uint8Array(policy.classifications.length);
  for (const c of classes) {
    if (policy.classifications[c.index] !== c)
      throw new InvalidArgumentError("Classification is not from this policy");
    classBits[c.index] = 1;
  }
  const cats = inPolicyOrder(categories);
  for (const c of cats)
    if (policy.categories[c.index] !== c) throw new InvalidArgumentError("Category is not from this policy");
  return {
    policy,
    classifications: classes,
    categories: cats,
    classBits,
    catBits: categoryBits(policy, cats),
  };
}

/** True when clearance `a` holds every classification and category that `b` holds. */
export function dominates(a: Clearance, b: Clearance): boolean {
  if (a.policy !== b.policy) return false;
  for (let i = 0; i < b.classBits.length; i++) if (b.classBits[i] && !a.classBits[i]) return false;
  for (let i = 0; i < b.catBits.length; i++) if ((b.catBits[i]! & ~a.catBits[i]!) !== 0) return false;
  return true;
}
