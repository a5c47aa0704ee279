// components.muc: the labelled MUC. Its keys are read by @cordon/muc (packages/muc/src/config.ts,
// documented in packages/muc/README.md); this runner connects it to the shared environment.
// The guard's client locations are read from the same file (components.guard.locations /
// otherLocations, as the guard and the catalog read them): an occupant then receives and sends only
// what its session's location grants (packages/muc/src/security/occupant-location.ts).
import { createComponent, readConnection, type CordonComponent } from "@cordon/component";
import {
  createMucService,
  MucReloadError,
  readMucConfig,
  readMucSettings,
  type MucConfigOptions,
  type MucSettings,
} from "@cordon/muc";
import { specOptions, type RuntimeEnvironment } from "../environment.js";
import type { ComponentRunner } from "./runner.js";
import { mucObserver, observeLinks, observeMemory, target, withObserver } from "./ops.js";
import { mucOps } from "./muc-ops.js";
import { withMucAudit } from "../audit-log.js";
import { readMucCluster } from "../muc-cluster-config.js";
import { runMucCluster } from "./muc-cluster.js";
import { guardSettingsOf } from "./catalog.js";
import { rebindLocations } from "@cordon/rules";

export const runMuc: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  const connection = readConnection(context.config, section);
  const options = (e: Pick<RuntimeEnvironment, "registry" | "governing">): MucConfigOptions => ({
    ...specOptions({ ...e, path: (p: string) => env.path(p) }),
    governing: e.governing,
    domain: connection.domain,
    secret: connection.secret,
  });
  // The catalog component of the same config file asks rooms the store does not hold (temporary
  // rooms) for their catalog on its users' behalf (packages/muc/README.md "Room catalogs").
  const catalogDomain = context.config.root
    .optionalSection("components")
    ?.optionalSection("catalog")
    ?.optionalString("domain");
  const withCatalog = <S extends MucSettings>(s: S): S =>
    s.catalogServices || !catalogDomain ? s : { ...s, catalogServices: [catalogDomain.toLowerCase()] };
  const config = readMucConfig(section, options(env));
  const settings = withCatalog(config.settings);
  const presetRooms = config.presetRooms;
  for (const record of presetRooms)
    if (!(await env.store.getRoom(record.jid))) await env.store.putRoom(record);
  const { locations } = guardSettingsOf(context.config, specOptions(env));
  const cluster = readMucCluster(section, context.redis);
  const queue = settings.limits?.queue;
  const serviceOn = (component: CordonComponent) =>
    createMucService({
      component,
      registry: env.registry,
      governingPolicy: env.governing.id,
      store: env.store,
      users: env.users,
      settings,
      logger: component.logger,
      ...(locations ? { locations } : {}),
      ...withObserver(withMucAudit(mucObserver(context.ops), context.audit, context.logger)),
    });
  const reread = (next: Pick<RuntimeEnvironment, "registry" | "governing">) => {
    // The locations' clearances must read under the new policies too (the guard's and the
    // catalog's rebinders refuse the same): a MUC started without the guard must not keep one.
    if (locations)
      rebindLocations(locations, next.registry, (what, reason) => {
        throw new MucReloadError(`components.guard.${what} does not read under the new policies: ${reason}`);
      });
    return withCatalog(readMucSettings(section, options(next)));
  };
  if (cluster) {
    // components.muc.cluster: several processes serve the domain (muc-cluster.ts).
    const targets = [target(connection), cluster.describe(connection.domain)];
    if (context.check) {
      serviceOn(createComponent({ ...connection, logger: context.logger })); // built, never started
      return { name: "muc", stop: async () => undefined, targets };
    }
    return runMucCluster({
      context,
      cluster,
      redis: context.redis!,
      domain: connection.domain,
      createComponent: () =>
        createComponent({
          ...connection,
          logger: context.logger,
          ...(queue ? { queue } : {}),
          // A dropped link is replaced by a fresh one, with fresh in-memory rooms (slot-takeover.ts).
          reconnect: { enabled: false },
        }),
      createService: serviceOn,
      reread,
      settings: () => settings,
      targets,
    });
  }
  const component = createComponent({ ...connection, logger: context.logger, ...(queue ? { queue } : {}) });
  const service = serviceOn(component);
  if (context.check) return { name: "muc", stop: async () => undefined, targets: [target(connection)] };
  observeLinks(context.ops, "muc", [component]);
  observeMemory(context.ops, "muc", () => service.memory());
  await service.start();
  // A policy reload installs the re-read settings into this same object (policy-reload.ts).
  const ops = mucOps(service, reread, () => settings);
  return { name: "muc", stop: () => service.stop(), ops };
};
