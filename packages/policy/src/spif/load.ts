// Loading an Open XML SPIF document into a Policy (XML-SPIF 2.x; element semantics as in
// docs/spif.md §3). Elements are matched by local name in the root's namespace.
import { InvalidPolicyError, UnknownCategoryError } from "../errors.js";
import { internalized } from "../intern.js";
import { SPIF_XML_LIMITS } from "../xml/limits.js";
import { childElements, firstChild } from "../xml/node.js";
import type { XmlNode } from "../xml/node.js";
import { parseXml } from "../xml/reader.js";
import { readMarkings } from "./markings.js";
import type {
  Category,
  CategoryRef,
  Classification,
  EquivalentCategory,
  EquivalentClassification,
  EquivalentPolicy,
  Policy,
  RequiredCategory,
  RequiredCategoryRefs,
  RequiredOperation,
  Tag,
  Tag7Encoding,
  TagSet,
  TagType,
} from "./model.js";

export const ACP145_SYNTAX = "2.16.840.1.101.2.1.8.3";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Parse an integer lacv ("004" equals 4). */
export function parseLacv(s: string | undefined, what: string): number {
  if (s === undefined || !/^\s*\d{1,15}\s*$/.test(s))
    throw new InvalidPolicyError(`Bad lacv on ${what}: ${s ?? "(missing)"}`);
  return Number(s.trim());
}

/** tagType (+ enumType) attribute pair to a TagType; anything else (tagType7) is informative. */
export function readTagType(el: XmlNode): TagType {
  const t = el.attrs["tagType"];
  if (t === undefined) throw new InvalidPolicyError("element has no tagType");
  if (t === "restrictive" || t === "permissive") return t;
  if (t === "enumerated") {
    const e = el.attrs["enumType"];
    if (e === "permissive") return "enumeratedPermissive";
    if (e === "restrictive") return "enumeratedRestrictive";
    throw new InvalidPolicyError("element has no enumType");
  }
  return "informative";
}

function readOperation(el: XmlNode): RequiredOperation {
  const op = el.attrs["operation"];
  if (!op) throw new InvalidPolicyError("Missing operation attribute from CategoryGroup");
  return op === "all" || op === "oneOrMore" ? op : "onlyOne";
}

function readCategoryRef(el: XmlNode): CategoryRef {
  const lacv = el.attrs["lacv"];
  return {
    tagSetName: el.attrs["tagSetRef"] ?? "",
    tagType: readTagType(el),
    lacv: lacv === undefined || lacv.trim() === "" ? undefined : parseLacv(lacv, "categoryGroup"),
  };
}

function readRequiredRefs(el: XmlNode, uri: string): RequiredCategoryRefs[] {
  return childElements(el, "requiredCategory", uri).map((rc) => ({
    operation: readOperation(rc),
    groups: childElements(rc, "categoryGroup", uri).map(readCategoryRef),
  }));
}

/** Resolve a category reference within a policy: one category with a lacv, else every category of that type. */
export function resolveCategoryRef(policy: Pick<Policy, "tagSetByName">, ref: CategoryRef): Category[] {
  const ts = policy.tagSetByName.get(ref.tagSetName);
  if (!ts) throw new UnknownCategoryError(`Unknown tagset name: ${ref.tagSetName}`);
  const byLacv = ts.byTypeLacv.get(ref.tagType);
  if (ref.lacv === undefined) return byLacv ? [...byLacv.values()].sort((a, b) => a.index - b.index) : [];
  const c = byLacv?.get(ref.lacv);
  if (!c) throw new UnknownCategoryError();
  return [c];
}

function resolveRequired(policy: Policy, refs: readonly RequiredCategoryRefs[]): RequiredCategory[] {
  return refs.map((r) => ({
    operation: r.operation,
    groups: r.groups.map((g) => resolveCategoryRef(policy, g)),
  }));
}

/** Parse and check a SPIF document. Throws InvalidPolicyError (or an XML decoding error) on any problem. */
export function loadPolicy(xml: string): Policy {
  if (xml.trim() === "") throw new InvalidPolicyError("SPIF is empty");
  const root = parseXml(xml, SPIF_XML_LIMITS);
  if (root.local !== "SPIF") throw new InvalidPolicyError("Not a spif");
  const ns = root.uri;
  const pid = firstChild(root, "securityPolicyId", ns);
  const id = pid?.attrs["id"];
  const name = pid?.attrs["name"];
  if (!id || !name) throw new InvalidPolicyError("Not a spif");
  if (!/^\d+(\.\d+)+$/.test(id)) throw new InvalidPolicyError(`Bad policy id: ${id}`);

  const policy = {
    id,
    name,
    rbacId: root.attrs["rbacId"] ?? ACP145_SYNTAX,
    privilegeId: root.attrs["privilegeId"] ?? ACP145_SYNTAX,
    defaultPolicyId: firstChild(root, "defaultSecurityPolicyId", ns)?.attrs["id"],
    markings: readMarkings(root, ns),
    classifications: [] as Classification[],
    classificationByLacv: new Map<number, Classification>(),
    classificationByName: new Map<string, Classification>(),
    tagSets: [] as TagSet[],
    tagSetById: new Map<string, TagSet>(),
    tagSetByName: new Map<string, TagSet>(),
    categories: [] as Category[],
    equivalentPolicies: [] as EquivalentPolicy[],
    equivalentPolicyByName: new Map<string, EquivalentPolicy>(),
    categoryWords: 0,
  } satisfies Mutable<Policy>;

  // Equivalent policies: alias name -> OID (+ categories added on translation).
  for (const ep of childElements(
    firstChild(root, "equivalentPolicies", ns) ?? root,
    "equivalentPolicy",
    ns,
  )) {
    const e: EquivalentPolicy = {
      name: ep.attrs["name"] ?? "",
      id: ep.attrs["id"] ?? "",
      required: readRequiredRefs(ep, ns),
    };
    policy.equivalentPolicies.push(e);
    policy.equivalentPolicyByName.set(e.name, e);
  }

  // Classifications.
  const classRequired = new Map<Classification, RequiredCategoryRefs[]>();
  for (const sc of childElements(
    firstChild(root, "securityClassifications", ns) ?? root,
    "securityClassification",
    ns,
  )) {
    const cname = sc.attrs["name"] ?? "";
    const lacv = parseLacv(sc.attrs["lacv"], `classification ${cname}`);
    if (policy.classificationByLacv.has(lacv))
      throw new InvalidPolicyError(`Duplicate classification ${cname}`);
    if (policy.classificationByName.has(cname))
      throw new InvalidPolicyError(`Duplicate classification name ${cname}`);
    const equivalents: EquivalentClassification[] = childElements(sc, "equivalentClassification", ns).map(
      (ec) => {
        const applied = ec.attrs["applied"];
        const policyRef = ec.attrs["policyRef"] ?? "";
        if (!policy.equivalentPolicyByName.has(policyRef))
          throw new InvalidPolicyError("PolicyRef not found");
        return {
          policyRef,
          lacv: parseLacv(ec.attrs["lacv"], "equivalentClassification"),
          applied: applied === "decrypt" || applied === "both" ? applied : "encrypt",
          required: readRequiredRefs(ec, ns),
        };
      },
    );
    const h = sc.attrs["hierarchy"];
    const c: Classification = {
      index: policy.classifications.length,
      name: cname,
      lacv,
      hierarchy: h !== undefined && /^\s*-?\d+\s*$/.test(h) ? Number(h) : lacv,
      color: sc.attrs["color"],
      obsolete: sc.attrs["obsolete"] === "true",
      markings: readMarkings(sc, ns),
      required: [],
      equivalents,
    };
    classRequired.set(c, readRequiredRefs(sc, ns));
    policy.classifications.push(c);
    policy.classificationByLacv.set(lacv, c);
    policy.classificationByName.set(cname, c);
  }
  if (policy.classifications.length === 0) throw new InvalidPolicyError("SPIF has no classifications");

  // Tag sets, tags and categories (first pass: definitions, in document order).
  interface Pending {
    cat: Mutable<Category>;
    el: XmlNode;
  }
  const pending: Pending[] = [];
  for (const tse of childElements(
    firstChild(root, "securityCategoryTagSets", ns) ?? root,
    "securityCategoryTagSet",
    ns,
  )) {
    const tsId = tse.attrs["id"] ?? "";
    const tsName = tse.attrs["name"] ?? "";
    if (policy.tagSetById.has(tsId)) throw new InvalidPolicyError(`Duplicate TagSet id ${tsId}`);
    if (policy.tagSetByName.has(tsName)) throw new InvalidPolicyError(`Duplicate TagSet name ${tsId}`);
    const byTypeLacv = new Map<TagType, Map<number, Category>>();
    const ts: TagSet = { name: tsName, id: tsId, tags: [], byTypeLacv };
    for (const te of childElements(tse, "securityCategoryTag", ns)) {
      const tagType = readTagType(te);
      let tag7Encoding: Tag7Encoding | undefined;
      if (tagType === "informative") {
        const enc = te.attrs["tag7Encoding"];
        if (enc !== "bitSetAttributes" && enc !== "securityAttributes")
          throw new InvalidPolicyError("element has no tag7Encoding");
        tag7Encoding = enc;
      }
      const tag: Tag = {
        name: te.attrs["name"] ?? "",
        tagType,
        tag7Encoding,
        tagSet: ts,
        markings: readMarkings(te, ns),
        categories: [],
      };
      let m = byTypeLacv.get(tagType);
      if (!m) byTypeLacv.set(tagType, (m = new Map<number, Category>()));
      for (const ce of childElements(te, "tagCategory", ns)) {
        const cname = ce.attrs["name"] ?? "";
        const lacv = parseLacv(ce.attrs["lacv"], `category ${cname}`);
        if (m.has(lacv)) throw new InvalidPolicyError(`Duplicate category ${cname} in tag set ${tsName}`);
        const excluded = new Set<number>();
        for (const x of childElements(ce, "excludedClass", ns)) {
          const xn = x.children
            .filter((t): t is string => typeof t === "string")
            .join("")
            .trim();
          const cl = policy.classificationByName.get(xn);
          if (!cl) throw new InvalidPolicyError("Unknown classification in exclusion");
          if (excluded.has(cl.lacv))
            throw new InvalidPolicyError("Duplicate excluded classification in category");
          excluded.add(cl.lacv);
        }
        const cat: Mutable<Category> = {
          index: policy.categories.length,
          name: cname,
          lacv,
          tagType,
          tag,
          tagSet: ts,
          obsolete: ce.attrs["obsolete"] === "true",
          markings: readMarkings(ce, ns),
          excludedClasses: excluded,
          excludedCategories: [],
          required: [],
          equivalents: [],
        };
        m.set(lacv, cat);
        (tag.categories as Category[]).push(cat);
        policy.categories.push(cat);
        pending.push({ cat, el: ce });
      }
      (ts.tags as Tag[]).push(tag);
    }
    policy.tagSets.push(ts);
    policy.tagSetById.set(internalized(tsId), ts);
    policy.tagSetByName.set(tsName, ts);
  }
  policy.categoryWords = Math.max(1, Math.ceil(policy.categories.length / 32));

  // Second pass: references between categories (they may point forward).
  for (const [c, refs] of classRequired)
    (c as Mutable<Classification>).required = resolveRequired(policy, refs);
  for (const { cat, el } of pending) {
    cat.excludedCategories = childElements(el, "excludedCategory", ns).map((x) =>
      resolveCategoryRef(policy, readCategoryRef(x)),
    );
    cat.required = resolveRequired(policy, readRequiredRefs(el, ns));
    cat.equivalents = childElements(el, "equivalentSecCategoryTag", ns).map((e): EquivalentCategory => {
      const discard = e.attrs["action"] !== undefined;
      const lacv = e.attrs["lacv"];
      const policyRef = e.attrs["policyRef"] ?? "";
      if (!policy.equivalentPolicyByName.has(policyRef)) throw new InvalidPolicyError("PolicyRef not found");
      return {
        policyRef,
        tagSetId: e.attrs["tagSetId"] ?? "",
        tagType: readTagType(e),
        lacv:
          discard && (lacv === undefined || lacv.trim() === "")
            ? undefined
            : parseLacv(lacv, "equivalentSecCategoryTag"),
        discard,
      };
    });
  }
  return policy;
}
