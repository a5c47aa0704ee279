// components.catalog: the XEP-0258 label catalog service (keys in packages/catalog/README.md):
//   domain, secret, server      the component connection
//   served: [example.test]      user domains whose servers delegate catalog requests to it
//   muc: [rooms.example.test]   MUC domains (room targets)
//   catalogs: { DOMAIN: { name, desc, restrict, items: [{ selector, default, label }] } }
//   remoteRequests, name, cacheSize
import { readConnection } from "@cordon/component";
import { createCatalogService, readCatalogSection } from "@cordon/catalog";
import type { ComponentRunner } from "./runner.js";

export const runCatalog: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  const settings = readCatalogSection(section, env.registry, env.governing.id);
  const connection = readConnection(context.config, section);
  const service = createCatalogService({ ...connection, logger: context.logger, registry: env.registry, store: env.store, users: env.users, ...settings });
  await service.start();
  return { name: "catalog", stop: () => service.stop() };
};
