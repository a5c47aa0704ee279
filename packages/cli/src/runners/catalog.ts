// components.catalog: the XEP-0258 label catalog service (keys in packages/catalog/README.md):
//   domain, secret, server      the component connection
//   served: [example.test]      user domains whose servers delegate catalog requests to it
//   muc: [rooms.example.test]   MUC domains (room targets)
//   catalogs: { DOMAIN: { name, desc, restrict, items: [{ selector, default, label }] } }
//   remoteRequests, name, cacheBytes (the catalog cache's byte budget; default 32 MiB)
// A user target's "no label" item follows the guard's default label, read from the same file
// (components.guard.defaultLabel; packages/catalog/src/unlabelled.ts): the catalog offers it only
// when the guard would let an unlabelled message through. No guard section: never (fail closed).
// Its client locations too (components.guard.locations / otherLocations): toward a user, only the
// labels the requesting session's location grants (@cordon/rules client-location.ts).
import { readConnection, type CordonConfig } from "@cordon/component";
import { rebindLabel, type Label, type PolicyRegistry, type SpecOptions } from "@cordon/policy";
import { rebindLocations, type ClientLocationOptions } from "@cordon/rules";
import { CatalogOptionsError, createCatalogService, readCatalogSection } from "@cordon/catalog";
import { readGuardSection } from "@cordon/guard";
import { specOptions } from "../environment.js";
import type { ComponentRunner } from "./runner.js";
import { decisionCounter, observeLinks, observeMemory, target } from "./ops.js";
import { catalogAudit } from "../audit-log.js";
import { configuredPeers, relaySettings, withConfiguredPeers } from "../peer-clearances.js";
import { relayServerDefaults } from "./relay.js";

/**
 * The label the guard of this config gives an unlabelled message (components.guard.defaultLabel,
 * read as the guard reads it); undefined without a guard section or without the key.
 */
export function guardDefaultLabelOf(config: CordonConfig, spec: SpecOptions): Label | undefined {
  return guardSettingsOf(config, spec).defaultLabel;
}

/**
 * What the catalog takes from the guard of this config (read as the guard reads it): its default
 * label and its client locations; nothing without a guard section.
 */
export function guardSettingsOf(
  config: CordonConfig,
  spec: SpecOptions,
): { defaultLabel?: Label; locations?: ClientLocationOptions } {
  const guard = config.components.get("guard");
  if (!guard) return {};
  const read = readGuardSection(guard, spec);
  return {
    ...(read.defaultLabel ? { defaultLabel: read.defaultLabel } : {}),
    ...(read.locations.length > 0
      ? {
          locations: {
            locations: read.locations,
            ...(read.otherLocations ? { otherLocations: read.otherLocations } : {}),
          },
        }
      : {}),
  };
}

/**
 * Throws unless what the catalog took from the guard (its default label, its locations'
 * clearances) reads under `registry` (a policy reload's new policies): the reload is then refused.
 */
export function checkGuardSettings(
  settings: { defaultLabel?: Label | undefined; locations?: ClientLocationOptions | undefined },
  registry: PolicyRegistry,
): void {
  if (settings.defaultLabel) rebindLabel(settings.defaultLabel, registry);
  if (settings.locations)
    rebindLocations(settings.locations, registry, (what, reason) => {
      throw new CatalogOptionsError(
        `components.guard.${what} does not read under the new policies: ${reason}`,
      );
    });
}

export const runCatalog: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  // One source for peer clearances (issue 16 item 11): the relay's configured ones over the store's.
  const relay = context.config.components.get("relay");
  const peers = relay
    ? configuredPeers((await relaySettings(env, relay, relayServerDefaults(context.config.root))).peerings)
    : new Map();
  const settings = readCatalogSection(section, specOptions(env));
  const { defaultLabel: guardDefaultLabel, locations: guardLocations } = guardSettingsOf(
    context.config,
    specOptions(env),
  );
  const connection = readConnection(context.config, section);
  const onDecision = decisionCounter(context.ops, "catalog");
  const onAudit = catalogAudit(context.audit, context.logger);
  const service = createCatalogService({
    ...connection,
    logger: context.logger,
    registry: env.registry,
    store: withConfiguredPeers(env.store, peers),
    users: env.users,
    ...(env.directory ? { personalCatalogs: env.directory } : {}),
    ...settings,
    ...(guardDefaultLabel ? { guardDefaultLabel } : {}),
    ...(guardLocations ? { guardLocations } : {}),
    ...(onDecision ? { onDecision } : {}),
    ...(onAudit ? { onAudit } : {}),
  });
  if (context.check) return { name: "catalog", stop: () => service.stop(), targets: [target(connection)] };
  observeLinks(context.ops, "catalog", [service.component]);
  // Its pending requests and its cache of computed catalogs, in bytes (cordon_memory_bytes).
  observeMemory(context.ops, "catalog", () => service.memory());
  await service.start();
  return {
    name: "catalog",
    stop: () => service.stop(),
    ops: {
      catalog: (query) => service.catalogFor(query),
      // Configured catalogs hold labels: re-read them under reloaded policies (the service keeps this Map).
      rebinder: {
        prepare(next) {
          // The guard's default label and locations too (the guard's own rebinder refuses the
          // same; a catalog started without the guard must not keep one that no longer reads: adv15).
          checkGuardSettings({ defaultLabel: guardDefaultLabel, locations: guardLocations }, next.registry);
          const fresh = readCatalogSection(
            section,
            specOptions({ ...next, path: (p: string) => env.path(p) }),
          ).catalogs;
          return () => {
            settings.catalogs.clear();
            for (const [domain, spec] of fresh) settings.catalogs.set(domain, spec);
          };
        },
      },
    },
  };
};
