// Test helpers: the demo policy of deploy/quickstart and spiffy-XML clearances for it.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry, type Label } from "@cordon/policy";
import type { RawValue } from "@cordon/store";
import { labelFromSpec } from "@cordon/policy";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import {
  createCatalogService,
  type CatalogService,
  type CatalogServiceOptions,
} from "../src/catalog-service.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const DEMO_POLICY_FILE = resolve(repoRoot, "deploy/quickstart/demo-policy.xml");
export const DEMO_OID = "1.3.6.1.4.1.99999.1.1";
const COMPARTMENTS = "1.3.6.1.4.1.99999.1.1.1";
const RELEASABILITY = "1.3.6.1.4.1.99999.1.1.2";
const CLASS_LACV: Record<string, number> = {
  UNCLASSIFIED: 1,
  RESTRICTED: 2,
  CONFIDENTIAL: 3,
  SECRET: 4,
  "TOP SECRET": 5,
};
const CATEGORY: Record<string, [string, string, number]> = {
  ALPHA: [COMPARTMENTS, "restrictive", 1],
  BRAVO: [COMPARTMENTS, "restrictive", 2],
  GBR: [RELEASABILITY, "permissive", 1],
  USA: [RELEASABILITY, "permissive", 2],
  FRA: [RELEASABILITY, "permissive", 3],
};

export function demoRegistry(): PolicyRegistry {
  const registry = new PolicyRegistry();
  registry.loadString(readFileSync(DEMO_POLICY_FILE, "utf8"));
  return registry;
}

/** A clearance holding every classification up to `upTo` and the given categories, as a store value. */
export function clearance(upTo: string, categories: string[] = []): RawValue {
  const max = CLASS_LACV[upTo] ?? 0;
  const classes = Object.values(CLASS_LACV)
    .filter((l) => l <= max)
    .map((l) => `<classification lacv='${l}'/>`)
    .join("");
  const tags = categories
    .map((c) => {
      const [id, type, lacv] = CATEGORY[c] as [string, string, number];
      return `<tag type='${type}' id='${id}' lacv='${lacv}'/>`;
    })
    .join("");
  return {
    encoding: "xml",
    data: `<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='${DEMO_OID}'/>${classes}${tags}</clearance>`,
  };
}

/** A label as a store value (spiffy XML). */
export function rawLabel(classification: string, categories: string[] = []): RawValue {
  const tags = categories
    .map((c) => {
      const [id, type, lacv] = CATEGORY[c] as [string, string, number];
      return `<tag type='${type}' id='${id}' lacv='${lacv}'/>`;
    })
    .join("");
  return {
    encoding: "xml",
    data: `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${DEMO_OID}'/><classification lacv='${CLASS_LACV[classification]}'/>${tags}</label>`,
  };
}

export function label(registry: PolicyRegistry, classification: string, categories: string[] = []): Label {
  return labelFromSpec({ policy: "Cordon Demo", classification, categories }, "test", { registry });
}

/** The demo catalog used by the tests: four labels, UNCLASSIFIED the default. */
export const DEMO_CATALOG = {
  name: "Demo",
  desc: "Cordon demo labels",
  restrict: true,
  items: [
    { selector: "SECRET", label: { policy: "Cordon Demo", classification: "SECRET" } },
    { selector: "CONFIDENTIAL", label: { policy: "Cordon Demo", classification: "CONFIDENTIAL" } },
    {
      selector: "SECRET|ALPHA",
      label: { policy: "Cordon Demo", classification: "SECRET", categories: ["ALPHA"] },
    },
    {
      selector: "UNCLASSIFIED",
      label: { policy: "Cordon Demo", classification: "UNCLASSIFIED" },
      default: true,
    },
  ],
};

/**
 * A catalog service for example.test (never connected: tests call its handlers), serving the demo
 * catalog, with `rooms.example.test` as its MUC domain; `options` override or add to that.
 */
export function demoCatalogService(
  store: CatalogServiceOptions["store"],
  options: Partial<CatalogServiceOptions> = {},
): CatalogService {
  const registry = options.registry ?? demoRegistry();
  const domain = "example.test";
  return createCatalogService({
    service: "xmpp://127.0.0.1:1",
    domain: `catalog.${domain}`,
    secret: "s",
    served: [domain],
    muc: [`rooms.${domain}`],
    registry,
    store,
    catalogs: new Map([[domain, parseCatalogSpec(DEMO_CATALOG, registry)]]),
    ...options,
  });
}
