// components.catalog: the XEP-0258 label catalog service (keys in packages/catalog/README.md):
//   domain, secret, server      the component connection
//   served: [example.test]      user domains whose servers delegate catalog requests to it
//   muc: [rooms.example.test]   MUC domains (room targets)
//   catalogs: { DOMAIN: { name, desc, restrict, items: [{ selector, default, label }] } }
//   remoteRequests, name, cacheSize
import { readConnection } from "@cordon/component";
import { createCatalogService, readCatalogSection } from "@cordon/catalog";
import { specOptions } from "../environment.js";
import type { ComponentRunner } from "./runner.js";
import { decisionCounter, observeLinks, target } from "./ops.js";

export const runCatalog: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  const settings = readCatalogSection(section, specOptions(env));
  const connection = readConnection(context.config, section);
  const onDecision = decisionCounter(context.ops, "catalog");
  const service = createCatalogService({
    ...connection,
    logger: context.logger,
    registry: env.registry,
    store: env.store,
    users: env.users,
    ...(env.directory ? { personalCatalogs: env.directory } : {}),
    ...settings,
    ...(onDecision ? { onDecision } : {}),
  });
  if (context.check) return { name: "catalog", stop: () => service.stop(), targets: [target(connection)] };
  observeLinks(context.ops, "catalog", [service.component]);
  await service.start();
  return {
    name: "catalog",
    stop: () => service.stop(),
    ops: {
      // Configured catalogs hold labels: re-read them under reloaded policies (the service keeps this Map).
      rebinder: {
        prepare(next) {
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
