// Label validity against its policy (XML-SPIF requiredCategory, excludedClass, excludedCategory;
// rules as in docs/spif.md §4). Validity is never part of the ACDF.
import { InvalidLabelError } from "./errors.js";
import type { Label } from "./label.js";
import type { Category, RequiredCategory } from "./spif/model.js";

/**
 * Membership in a label's categories: the list itself when short (no set to build), else a set
 * (`set`, made by holdSet).
 */
function has(categories: readonly Category[], set: ReadonlySet<Category> | undefined, c: Category): boolean {
  return set ? set.has(c) : categories.includes(c);
}

function holdSet(categories: readonly Category[]): ReadonlySet<Category> | undefined {
  return categories.length > 16 ? new Set(categories) : undefined;
}

function groupMatches(
  req: RequiredCategory,
  categories: readonly Category[],
  set: ReadonlySet<Category> | undefined,
): boolean {
  let matched = 0;
  for (const entry of req.groups) {
    let hit = false;
    for (const c of entry)
      if (has(categories, set, c)) {
        hit = true;
        break;
      }
    if (hit) matched++;
  }
  if (req.operation === "all") return matched === req.groups.length;
  if (req.operation === "oneOrMore") return matched >= 1;
  return matched === 1; // onlyOne counts matching entries, not categories
}

/** Every reason the label is invalid under its policy; empty when valid. */
export function labelProblems(label: Label): string[] {
  const problems: string[] = [];
  const cats = label.categories;
  const set = holdSet(cats);
  const cls = label.classification;
  for (const req of cls.required)
    if (!groupMatches(req, cats, set))
      problems.push(`classification ${cls.name} requires ${req.operation} of its category groups`);
  for (const c of label.categories) {
    if (c.excludedClasses.has(cls.lacv))
      problems.push(`category ${c.name} excludes classification ${cls.name}`);
    for (const ex of c.excludedCategories) {
      const hit = ex.find((x) => has(cats, set, x));
      if (hit) problems.push(`category ${c.name} excludes category ${hit.name}`);
    }
    for (const req of c.required)
      if (!groupMatches(req, cats, set))
        problems.push(`category ${c.name} requires ${req.operation} of its category groups`);
  }
  return problems;
}

/**
 * Whether the label is valid under its policy: the same rules as labelProblems, stopping at the
 * first problem and building no text (every component validates a label per stanza).
 */
export function isValidLabel(label: Label): boolean {
  const cats = label.categories;
  const cls = label.classification;
  const set = holdSet(cats);
  for (const req of cls.required) if (!groupMatches(req, cats, set)) return false;
  for (const c of cats) {
    if (c.excludedClasses.has(cls.lacv)) return false;
    for (const ex of c.excludedCategories) for (const x of ex) if (has(cats, set, x)) return false;
    for (const req of c.required) if (!groupMatches(req, cats, set)) return false;
  }
  return true;
}

/** Throw InvalidLabelError when the label is invalid. */
export function assertValidLabel(label: Label): void {
  const p = labelProblems(label);
  if (p.length > 0) throw new InvalidLabelError(p);
}
