// components.catalog: the XEP-0258 label catalog service (keys in packages/catalog/README.md):
//   domain, secret, server      the component connection
//   served: [example.test]      user domains whose servers delegate catalog requests to it
//   muc: [rooms.example.test]   MUC domains (room targets)
//   catalogs: { DOMAIN: { name, desc, restrict, items: [{ selector, default, label }] } }
//   remoteRequests, name, cacheBytes (the catalog cache's byte budget; default 32 MiB)
// A user target's "no label" item follows the guard's default label, read from the same file
// (components.guard.defaultLabel; packages/catalog/src/unlabelled.ts): the catalog offers it only
// when the guard would let an unlabelled message through. No guard section: never (fail closed).
import { readConnection, type CordonConfig } from "@cordon/component";
import { rebindLabel, type Label, type SpecOptions } from "@cordon/policy";
import { createCatalogService, readCatalogSection } from "@cordon/catalog";
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
  const guard = config.components.get("guard");
  return guard ? readGuardSection(guard, spec).defaultLabel : undefined;
}

export const runCatalog: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  // One source for peer clearances (issue 16 item 11): the relay's configured ones over the store's.
  const relay = context.config.components.get("relay");
  const peers = relay
    ? configuredPeers((await relaySettings(env, relay, relayServerDefaults(context.config.root))).peerings)
    : new Map();
  const settings = readCatalogSection(section, specOptions(env));
  const guardDefaultLabel = guardDefaultLabelOf(context.config, specOptions(env));
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
          // The guard's default label too (the guard's own rebinder refuses the same; a catalog
          // started without the guard must not keep one that no longer reads: adv15).
          if (guardDefaultLabel) rebindLabel(guardDefaultLabel, next.registry);
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
