// Catalog definitions as administrators write them (config file section, or the JSON a store
// catalog record holds), turned into labels of loaded policies.
//
//   { name?, desc?, restrict?, items: [ { selector?, default?, label? } ] }
//   label: as everywhere in Cordon (@cordon/policy labelFromSpec): { policy?, classification,
//          categories? } by name ("TagSet/NAME" for a name two tag sets share; policy defaults to the
//          governing policy when the caller names one), { file: PATH } (config files only),
//          { encoding: "xml" | "ber", data } (a store RawLabel), or label data inline
// An item without `label` offers "no label" (XEP-0258 §"Label Catalog Discovery").
import { labelFromSpec, SpecError, type Label, type PolicyRegistry, type SpecOptions } from "@cordon/policy";
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

/** A registry alone: labels name their policy, and no file is read (store records). */
function specOptions(labels: PolicyRegistry | SpecOptions): SpecOptions {
  return "registry" in labels ? labels : { registry: labels };
}

/** An item's label: the one config syntax of labels (@cordon/policy labelFromSpec). */
function itemLabel(value: unknown, where: string, labels: SpecOptions): Label {
  try {
    return labelFromSpec(value, where, labels);
  } catch (error) {
    if (error instanceof SpecError) throw new CatalogSpecError(error.key, error.reason, { cause: error });
    throw error;
  }
}

/**
 * Parses a catalog definition (already decoded from YAML/JSON). With a registry alone, labels must
 * name their policy and cannot be files (store records); config files pass their SpecOptions.
 */
export function parseCatalogSpec(
  value: unknown,
  labels: PolicyRegistry | SpecOptions,
  where = "catalog",
): CatalogSpec {
  const spec = specOptions(labels);
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
        : itemLabel(item.label, `${at}.label`, spec);
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
