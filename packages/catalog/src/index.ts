// @cordon/catalog: the XEP-0258 label catalog service (reachable through the home server by XEP-0355).
export * from "./errors.js";
export { parseCatalogSpec, parseCatalogJson } from "./catalog-spec.js";
export type { CatalogSpec, CatalogEntry } from "./catalog-spec.js";
export {
  buildCatalog,
  roomCatalog,
  roomGate,
  emptyCatalog,
  clearanceGate,
  clearancesGate,
  catalogId,
} from "./catalog.js";
export type { Catalog, CatalogItem, LabelGate, RoomLabels, BuildCatalogInput } from "./catalog.js";
export { catalogElement, securityLabelElement, CATALOG_NAMESPACES } from "./catalog-xml.js";
export { resolveTarget } from "./targets.js";
export type { CatalogTarget, TargetContext } from "./targets.js";
export { CatalogCache, DEFAULT_CATALOG_CACHE_BYTES, type CatalogCacheEntry } from "./catalog-cache.js";
export { catalogBytes } from "./catalog-bytes.js";
export { createCatalogService, DELEGATED_FEATURES, ROOM_RESTRICT_KEY } from "./catalog-service.js";
export type {
  CatalogAuditEvent,
  CatalogService,
  CatalogServiceOptions,
  CatalogQuery,
  PersonalCatalogSource,
} from "./catalog-service.js";
export { readCatalogSection, CATALOG_CONFIG_KEYS } from "./config.js";
export type { CatalogSectionSettings } from "./config.js";
