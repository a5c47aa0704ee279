// Translation of a label into an equivalent policy (XML-SPIF equivalentPolicy / equivalentClassification /
// equivalentSecCategoryTag, encrypt direction; steps as in docs/spif.md §7).
import { findCategory } from "./category.js";
import { NoEquivalentCategoryError, NoEquivalentClassificationError } from "./errors.js";
import { makeLabel } from "./label.js";
import type { Label } from "./label.js";
import { resolveCategoryRef } from "./spif/load.js";
import type { Category, Policy, RequiredCategoryRefs } from "./spif/model.js";

function addRequired(target: Policy, refs: readonly RequiredCategoryRefs[], out: Category[]): void {
  for (const r of refs) for (const g of r.groups) out.push(...resolveCategoryRef(target, g));
}

/** Build a new label in `target` equivalent to `label` (the source is untouched). */
export function translateLabel(label: Label, target: Policy): Label {
  const source = label.policy;
  if (source === target) return label;
  const refs = (name: string): boolean => source.equivalentPolicyByName.get(name)?.id === target.id;
  const eqClass = label.classification.equivalents.find(
    (e) => refs(e.policyRef) && (e.applied === "encrypt" || e.applied === "both"),
  );
  if (!eqClass) throw new NoEquivalentClassificationError();
  const cls = target.classificationByLacv.get(eqClass.lacv);
  if (!cls) throw new NoEquivalentClassificationError();
  const cats: Category[] = [];
  addRequired(target, eqClass.required, cats);
  for (const c of label.categories) {
    const eqs = c.equivalents.filter((e) => refs(e.policyRef));
    if (eqs.length === 0) throw new NoEquivalentCategoryError(c.name);
    for (const e of eqs) {
      if (e.discard || e.lacv === undefined) continue;
      cats.push(findCategory(target, e.tagSetId, e.tagType, e.lacv));
    }
  }
  for (const ep of source.equivalentPolicies) if (ep.id === target.id) addRequired(target, ep.required, cats);
  return makeLabel(target, cls, cats);
}
