// The in-memory model of an XML-SPIF security policy (Open XML SPIF 2.x, https://www.xmlspif.org/).
// Built once by the loader (spif/load.ts) and read-only afterwards.

/** Category tag types. "informative" is the SPIF's tagType7 (X.841 §8.3 / ACP-145 InformativeTag). */
export type TagType =
  "restrictive" | "permissive" | "enumeratedPermissive" | "enumeratedRestrictive" | "informative";
export const TAG_TYPES: readonly TagType[] = [
  "restrictive",
  "permissive",
  "enumeratedPermissive",
  "enumeratedRestrictive",
  "informative",
];

/** tagType7 encodings (ACP-145(A) InformativeTag field CHOICE). */
export type Tag7Encoding = "bitSetAttributes" | "securityAttributes";

/** Marking code flags (XML-SPIF markingData/code). */
export const Flag = {
  PageTop: 1,
  PageBottom: 2,
  DocumentStart: 4,
  DocumentEnd: 8,
  NoMarkingDisplay: 16,
  NoNameDisplay: 32,
  SuppressClassName: 64,
  ReplacePolicy: 128,
} as const;
export const LOCATION_FLAGS =
  Flag.PageTop | Flag.PageBottom | Flag.DocumentStart | Flag.DocumentEnd | Flag.NoMarkingDisplay;

/** One markingData entry: its code flags and optional phrase. */
export interface MarkingEntry {
  readonly flags: number;
  readonly phrase: string | undefined;
}

/** Marking of one element in one language: qualifiers plus markingData entries in document order. */
export interface Marking {
  readonly prefix: string;
  readonly suffix: string;
  readonly sep: string;
  readonly entries: readonly MarkingEntry[];
}

/** Markings of one element by xml:lang ("" = untagged). */
export type MarkingSet = ReadonlyMap<string, Marking>;

/** An unresolved categoryGroup reference (tag set by name). lacv undefined = every category of that type. */
export interface CategoryRef {
  readonly tagSetName: string;
  readonly tagType: TagType;
  readonly lacv: number | undefined;
}

export type RequiredOperation = "onlyOne" | "oneOrMore" | "all";

/** requiredCategory with its groups resolved to categories of this policy. */
export interface RequiredCategory {
  readonly operation: RequiredOperation;
  readonly groups: readonly (readonly Category[])[];
}

/** requiredCategory whose references resolve in another policy (equivalent classifications/policies). */
export interface RequiredCategoryRefs {
  readonly operation: RequiredOperation;
  readonly groups: readonly CategoryRef[];
}

export interface EquivalentClassification {
  readonly policyRef: string;
  readonly lacv: number;
  readonly applied: "encrypt" | "decrypt" | "both";
  readonly required: readonly RequiredCategoryRefs[];
}

export interface EquivalentCategory {
  readonly policyRef: string;
  readonly tagSetId: string;
  readonly tagType: TagType;
  readonly lacv: number | undefined;
  /** The `action` attribute was present (e.g. "discard"): nothing is emitted. */
  readonly discard: boolean;
}

export interface EquivalentPolicy {
  readonly name: string;
  readonly id: string;
  readonly required: readonly RequiredCategoryRefs[];
}

export interface Classification {
  /** Position in the policy's classification list (used for bitsets). */
  readonly index: number;
  readonly name: string;
  readonly lacv: number;
  readonly hierarchy: number;
  readonly color: string | undefined;
  readonly obsolete: boolean;
  readonly markings: MarkingSet;
  readonly required: readonly RequiredCategory[];
  readonly equivalents: readonly EquivalentClassification[];
}

export interface TagSet {
  readonly name: string;
  readonly id: string;
  readonly tags: readonly Tag[];
  /** Categories by tag type then lacv. */
  readonly byTypeLacv: ReadonlyMap<TagType, ReadonlyMap<number, Category>>;
}

export interface Tag {
  readonly name: string;
  readonly tagType: TagType;
  readonly tag7Encoding: Tag7Encoding | undefined;
  readonly tagSet: TagSet;
  readonly markings: MarkingSet;
  readonly categories: readonly Category[];
}

export interface Category {
  /** Position in document order over the whole SPIF: the category order for markings and the ACDF. */
  readonly index: number;
  readonly name: string;
  readonly lacv: number;
  readonly tagType: TagType;
  readonly tag: Tag;
  readonly tagSet: TagSet;
  readonly obsolete: boolean;
  readonly markings: MarkingSet;
  /** lacvs of excludedClass entries. */
  readonly excludedClasses: ReadonlySet<number>;
  /** Each excludedCategory entry resolved to the categories it covers. */
  readonly excludedCategories: readonly (readonly Category[])[];
  readonly required: readonly RequiredCategory[];
  readonly equivalents: readonly EquivalentCategory[];
}

export interface Policy {
  readonly id: string;
  readonly name: string;
  /** Category syntax for labels (SPIF@rbacId) and clearances (SPIF@privilegeId). */
  readonly rbacId: string;
  readonly privilegeId: string;
  readonly defaultPolicyId: string | undefined;
  readonly markings: MarkingSet;
  readonly classifications: readonly Classification[];
  readonly classificationByLacv: ReadonlyMap<number, Classification>;
  readonly classificationByName: ReadonlyMap<string, Classification>;
  readonly tagSets: readonly TagSet[];
  readonly tagSetById: ReadonlyMap<string, TagSet>;
  readonly tagSetByName: ReadonlyMap<string, TagSet>;
  /** Every category in policy (document) order; `categories[c.index] === c`. */
  readonly categories: readonly Category[];
  readonly equivalentPolicies: readonly EquivalentPolicy[];
  readonly equivalentPolicyByName: ReadonlyMap<string, EquivalentPolicy>;
  /** Number of 32-bit words in a category bitset of this policy. */
  readonly categoryWords: number;
}
