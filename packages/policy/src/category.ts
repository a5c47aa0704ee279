// Category lookup and ordering helpers: a category's identity is (tag set, tag type, lacv).
import { UnknownCategoryError } from "./errors.js";
import type { Category, Policy, TagType } from "./spif/model.js";

/** Find a category by tag set OID, tag type and lacv. */
export function findCategory(policy: Policy, tagSetId: string, tagType: TagType, lacv: number): Category {
  return categoryOf(categoriesOfType(policy, tagSetId, tagType), lacv);
}

/**
 * The first half of findCategory: the tag set's categories of one tag type by lacv (undefined when
 * it has none), for a decoder looking up several lacvs of one tag set and type. Same errors.
 */
export function categoriesOfType(
  policy: Policy,
  tagSetId: string,
  tagType: TagType,
): ReadonlyMap<number, Category> | undefined {
  const ts = policy.tagSetById.get(tagSetId);
  if (!ts) throw new UnknownCategoryError(`Unknown tagset id: ${tagSetId}`);
  return ts.byTypeLacv.get(tagType);
}

/** The second half of findCategory. */
export function categoryOf(byLacv: ReadonlyMap<number, Category> | undefined, lacv: number): Category {
  const c = byLacv?.get(lacv);
  if (!c) throw new UnknownCategoryError();
  return c;
}

/** Find a category by tag set name, tag type class and category name (NATO STANAG 4774 form). */
export function findCategoryByName(
  policy: Policy,
  tagSetName: string,
  types: readonly TagType[],
  name: string,
): Category {
  const ts = policy.tagSetByName.get(tagSetName);
  if (!ts) throw new UnknownCategoryError(`Unknown tagset name: ${tagSetName}`);
  for (const tag of ts.tags) {
    if (!types.includes(tag.tagType)) continue;
    for (const c of tag.categories) if (c.name === name) return c;
  }
  throw new UnknownCategoryError(`Cannot find the tagType/name: ${name}`);
}

/** Deduplicate and sort categories into policy order. */
export function inPolicyOrder(cats: Iterable<Category>): Category[] {
  // Most decoders already yield policy order without duplicates: then a copy is the answer.
  if (Array.isArray(cats)) {
    const list = cats as readonly Category[];
    let ordered = true;
    for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1]!.index < list[i]!.index;
    if (ordered) return list.slice();
  }
  const seen = new Set<Category>();
  for (const c of cats) seen.add(c);
  return [...seen].sort((a, b) => a.index - b.index);
}

/** A category bitset over policy order (bit i = categories[i]). */
export function categoryBits(policy: Policy, cats: readonly Category[]): Uint32Array {
  const bits = new Uint32Array(policy.categoryWords);
  for (const c of cats) bits[c.index >>> 5]! |= 1 << (c.index & 31);
  return bits;
}

/** True for restrictive and enumerated-restrictive tag types. */
export function isRestrictive(t: TagType): boolean {
  return t === "restrictive" || t === "enumeratedRestrictive";
}

/** True for permissive and enumerated-permissive tag types. */
export function isPermissive(t: TagType): boolean {
  return t === "permissive" || t === "enumeratedPermissive";
}
