// Catalog definitions as administrators write them (config file section, or the JSON a store
// catalog record holds), turned into labels of loaded policies.
//
//   { name?, desc?, restrict?, items: [ { selector?, default?, label? } ] }
//   label: { policy?: NAME|OID, classification: NAME, categories?: [NAME | "TagSet/NAME"] }
//          (policy defaults to the governing policy when the caller names one)
//        | { encoding: "xml" | "ber", data: TEXT }     (a store RawLabel: XML, or BER as base64)
// An item without `label` offers "no label" (XEP-0258 §"Label Catalog Discovery").
import {
  findCategoryByName,
  makeLabel,
  parseLabelData,
  type Category,
  type Label,
  type PolicyRegistry,
  type TagType,
} from "@cordon/policy";
import { CatalogSpecError } from "./errors.js";

/** One configured item. */
export interface CatalogEntry {
  /** XEP-0258 selector (`A|B|C` for menus); default: the label's display marking. */
  readonly selector?: string;
  /** Undefined: the "no label" item. */
  readonly label?: Label;
  readonly default?: boolean;
}

/** A configured catalog (per domain, per room, or personal), before filtering for a requester. */
export interface CatalogSpec {
  readonly name?: string;
  readonly desc?: string;
  /** XEP-0258 `restrict`: the client should only use the offered labels. Default true. */
  readonly restrict?: boolean;
  readonly items: readonly CatalogEntry[];
}

const TAG_TYPES: readonly TagType[] = [
  "restrictive",
  "permissive",
  "enumeratedPermissive",
  "enumeratedRestrictive",
  "informative",
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length === 0)
    throw new CatalogSpecError(`${where}.${key}`, "expected a non-empty string");
  return v;
}

function optionalBoolean(o: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new CatalogSpecError(`${where}.${key}`, "expected true or false");
  return v;
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new CatalogSpecError(`${where}.${k}`, `unknown key (expected one of: ${allowed.join(", ")})`);
}

function findCategory(
  policyCats: readonly Category[],
  registryName: string,
  text: string,
  where: string,
  lookup: (tagSet: string, name: string) => Category,
): Category {
  const slash = text.indexOf("/");
  if (slash > 0) return lookup(text.slice(0, slash), text.slice(slash + 1));
  const hits = policyCats.filter((c) => c.name === text);
  if (hits.length === 1) return hits[0] as Category;
  if (hits.length === 0)
    throw new CatalogSpecError(where, `policy ${registryName} has no category "${text}"`);
  throw new CatalogSpecError(
    where,
    `category "${text}" is ambiguous in ${registryName}: write "TagSet/${text}"`,
  );
}

/** Parses one label description (see the file comment). */
export function parseLabelSpec(
  value: unknown,
  registry: PolicyRegistry,
  where: string,
  defaultPolicy?: string,
): Label {
  if (!isRecord(value))
    throw new CatalogSpecError(
      where,
      "expected a mapping (policy, classification, categories) or (encoding, data)",
    );
  try {
    if (value.encoding !== undefined || value.data !== undefined) {
      onlyKeys(value, ["encoding", "data"], where);
      if ((value.encoding !== "xml" && value.encoding !== "ber") || typeof value.data !== "string")
        throw new CatalogSpecError(where, 'expected encoding "xml" or "ber" and data as a string');
      return parseLabelData(value.data, registry);
    }
    onlyKeys(value, ["policy", "classification", "categories"], where);
    const policyName = optionalString(value, "policy", where) ?? defaultPolicy;
    const className = optionalString(value, "classification", where);
    if (!policyName || !className)
      throw new CatalogSpecError(where, "policy and classification are required");
    const policy = registry.get(policyName);
    if (!policy)
      throw new CatalogSpecError(`${where}.policy`, `no loaded policy named or numbered "${policyName}"`);
    const classification = policy.classificationByName.get(className);
    if (!classification)
      throw new CatalogSpecError(
        `${where}.classification`,
        `policy ${policy.name} has no classification "${className}"`,
      );
    const names = value.categories ?? [];
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string"))
      throw new CatalogSpecError(`${where}.categories`, "expected a list of category names");
    const categories = (names as string[]).map((n, i) =>
      findCategory(policy.categories, policy.name, n, `${where}.categories[${i}]`, (tagSet, name) =>
        findCategoryByName(policy, tagSet, TAG_TYPES, name),
      ),
    );
    return makeLabel(policy, classification, categories);
  } catch (error) {
    if (error instanceof CatalogSpecError) throw error;
    throw new CatalogSpecError(where, `not a usable label: ${(error as Error).message}`, { cause: error });
  }
}

/** Parses a catalog definition (already decoded from YAML/JSON). */
export function parseCatalogSpec(
  value: unknown,
  registry: PolicyRegistry,
  where = "catalog",
  defaultPolicy?: string,
): CatalogSpec {
  if (!isRecord(value)) throw new CatalogSpecError(where, "expected a mapping with items");
  onlyKeys(value, ["name", "desc", "restrict", "items"], where);
  const items = value.items ?? [];
  if (!Array.isArray(items)) throw new CatalogSpecError(`${where}.items`, "expected a list");
  const entries = items.map((item: unknown, i): CatalogEntry => {
    const at = `${where}.items[${i}]`;
    if (!isRecord(item)) throw new CatalogSpecError(at, "expected a mapping (selector, label, default)");
    onlyKeys(item, ["selector", "label", "default"], at);
    const selector = optionalString(item, "selector", at);
    const isDefault = optionalBoolean(item, "default", at);
    const label =
      item.label === undefined || item.label === null
        ? undefined
        : parseLabelSpec(item.label, registry, `${at}.label`, defaultPolicy);
    return {
      ...(selector ? { selector } : {}),
      ...(label ? { label } : {}),
      ...(isDefault ? { default: true } : {}),
    };
  });
  if (entries.filter((e) => e.default).length > 1)
    throw new CatalogSpecError(`${where}.items`, "at most one item may be the default (XEP-0258)");
  const name = optionalString(value, "name", where);
  const desc = optionalString(value, "desc", where);
  const restrict = optionalBoolean(value, "restrict", where);
  return {
    ...(name ? { name } : {}),
    ...(desc ? { desc } : {}),
    ...(restrict !== undefined ? { restrict } : {}),
    items: entries,
  };
}

/** Parses the JSON text a store catalog record holds. */
export function parseCatalogJson(text: string, registry: PolicyRegistry, where: string): CatalogSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CatalogSpecError(where, "not valid JSON", { cause: error });
  }
  return parseCatalogSpec(value, registry, where);
}
