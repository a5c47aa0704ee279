// The `components.catalog` section of the Cordon config file (read with the runtime's ConfigReader):
//   domain, secret, server          the XEP-0114 connection (see @cordon/component)
//   served: [DOMAIN]                user domains whose servers delegate catalog requests to us
//   muc: [DOMAIN]                   MUC component domains (room targets)
//   catalogs: { DOMAIN: CATALOG }   configured catalogs (see catalog-spec.ts); store records win
//                                   (labels by name in `labels.policy`, files read with `labels.readFile`)
//   remoteRequests: false           accept catalog requests from other servers' users
//   name: TEXT                      disco#info identity name
//   cacheBytes: 32 MiB              bytes the cache of computed catalogs may hold (catalog-cache.ts)
// Policies, store and directory come from the top level of the file (shared by all components).
import { ConfigError, readBytes, type ConfigReader } from "@cordon/component";
import type { SpecOptions } from "@cordon/policy";
import { parseCatalogSpec, type CatalogSpec } from "./catalog-spec.js";
import { CatalogSpecError } from "./errors.js";
import { DEFAULT_CATALOG_CACHE_BYTES } from "./catalog-cache.js";

export const CATALOG_CONFIG_KEYS: readonly string[] = [
  "domain",
  "secret",
  "server",
  "served",
  "muc",
  "catalogs",
  "remoteRequests",
  "name",
  "cacheBytes",
  // (refused with a message saying what replaced it)
  "cacheSize",
];

export interface CatalogSectionSettings {
  served: string[];
  muc: string[];
  catalogs: Map<string, CatalogSpec>;
  remoteRequests: boolean;
  name?: string;
  cacheMaxBytes: number;
}

/** Reads and validates the catalog-specific keys; failures are ConfigErrors naming the key. */
export function readCatalogSection(section: ConfigReader, labels: SpecOptions): CatalogSectionSettings {
  section.only(CATALOG_CONFIG_KEYS);
  const domains = (key: string) =>
    section.stringList(key).map((d, i) => {
      if (!/^[a-z0-9.-]+$/i.test(d) || d.startsWith(".") || d.endsWith("."))
        section.fail(`${key}[${i}]`, `expected a domain name, got "${d}"`);
      return d.toLowerCase();
    });
  const served = domains("served");
  if (served.length === 0)
    section.fail(
      "served",
      "required: the user domains whose servers delegate catalog requests to this component",
    );
  const muc = domains("muc");
  const catalogs = new Map<string, CatalogSpec>();
  const catalogSection = section.optionalSection("catalogs");
  for (const [domain, reader] of catalogSection?.sections() ?? []) {
    try {
      catalogs.set(domain.toLowerCase(), parseCatalogSpec(reader.value, labels, reader.key("")));
    } catch (error) {
      if (error instanceof CatalogSpecError)
        throw new ConfigError(error.where, error.message.slice(error.where.length + 2), section.file);
      throw error;
    }
  }
  if (section.has("cacheSize"))
    section.fail(
      "cacheSize",
      'replaced by cacheBytes: the catalog cache is bounded in bytes (a size such as "16 MiB"; default 32 MiB)',
    );
  const name = section.optionalString("name");
  return {
    served,
    muc,
    catalogs,
    remoteRequests: section.boolean("remoteRequests", false),
    ...(name ? { name } : {}),
    cacheMaxBytes: readBytes(section, "cacheBytes", DEFAULT_CATALOG_CACHE_BYTES),
  };
}
