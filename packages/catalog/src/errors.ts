// Typed errors of the catalog service: one class per condition, each with a stable `code`
// (every code is listed in docs/errors.md).
import { CordonError } from "@cordon/errors";

/** Base of every error the catalog package throws at callers. */
export abstract class CordonCatalogError extends CordonError {}

/** A catalog definition (config file or store record) that cannot be used; names where. */
export class CatalogSpecError extends CordonCatalogError {
  readonly where: string;
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super("CORDON_CATALOG_SPEC_INVALID", `${where}: ${message}`, options);
    this.where = where;
  }
}

/** Bad catalog service options (no served domain, overlapping domains...). */
export class CatalogOptionsError extends CordonCatalogError {
  constructor(message: string) {
    super("CORDON_CATALOG_OPTIONS_INVALID", message);
  }
}
