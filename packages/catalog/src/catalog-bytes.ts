// What a cached catalog holds in memory, for the catalog cache's byte budget (catalog-cache.ts):
// the same counting as @cordon/policy's ByteLru (strings two bytes a character, fixed overheads
// for objects). A label counts in full (labelBytes) in every catalog that offers it: a catalog
// built from a store record holds labels parsed for it alone, and a label shared with a configured
// catalog is counted once per entry — more than it costs, never less.
import { elementBytes, type Element } from "@cordon/component";
import { labelBytes } from "@cordon/policy";
import type { Catalog } from "./catalog.js";

const OBJECT_BYTES = 64;
const STRING_BYTES = 16;
/** A dependency: its string, its slot in the entry's list and its place in the index by dependency. */
const DEP_BYTES = 64;

const text = (s: string | undefined): number => (s === undefined ? 0 : STRING_BYTES + 2 * s.length);

/** A computed catalog: its strings, its items and their labels. */
export function catalogBytes(catalog: Catalog): number {
  let bytes = OBJECT_BYTES + text(catalog.to) + text(catalog.name) + text(catalog.desc) + text(catalog.id);
  for (const item of catalog.items)
    bytes +=
      OBJECT_BYTES +
      text(item.selector) +
      text(item.marking) +
      text(item.fgcolor) +
      text(item.bgcolor) +
      (item.label ? labelBytes(item.label) : 0);
  return bytes;
}

/** One cache entry: the catalog, what it depends on and the serialised forms built so far. */
export function catalogEntryBytes(entry: {
  readonly catalog: Catalog;
  readonly deps: readonly string[];
  readonly elements: ReadonlyMap<string, Element>;
}): number {
  let bytes = 2 * OBJECT_BYTES + catalogBytes(entry.catalog);
  for (const dep of entry.deps) bytes += DEP_BYTES + text(dep);
  for (const [namespace, element] of entry.elements)
    bytes += OBJECT_BYTES + text(namespace) + elementBytes(element);
  return bytes;
}
