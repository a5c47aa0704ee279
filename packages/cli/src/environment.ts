// What every component runner shares, built once from the top level of the config file:
//   policies: [SPIF files]          loaded into one registry (the first is the governing policy
//   governingPolicy: OID             unless this names another)
//   store: { redis: { url | sentinels + sentinelName, prefix, ... } } (redis-config.ts) or omitted for the embedded in-memory store
//   directory: { url, bindDn, secret, baseDn, filter, clearanceAttributes, catalogAttribute, ttlSeconds,
//                cacheBytes }   (cacheBytes: the answers cached, default 16 MiB; cache-bytes.ts)
// plus how labels and clearances written in the config are read (specOptions).
import { dirname, resolve } from "node:path";
import { readFileSync } from "node:fs";
import {
  PolicyRegistry,
  clearanceFromSpec,
  encodeBerClearance,
  parseClearance,
  type Policy,
  type SpecOptions,
} from "@cordon/policy";
import {
  MemoryStore,
  RedisStore,
  LdapDirectory,
  ClearanceResolver,
  type ClearanceStore,
  type UserClearanceSource,
} from "@cordon/store";
import { ConfigError, type CordonConfig, type Logger } from "@cordon/component";
import { readRedisSection } from "./redis-config.js";
import { readCacheBytes } from "./cache-bytes.js";

export interface RuntimeEnvironment {
  config: CordonConfig;
  logger: Logger;
  registry: PolicyRegistry;
  governing: Policy;
  store: ClearanceStore;
  /** Store first, then the directory when one is configured. */
  users: UserClearanceSource;
  /** The LDAP directory, when configured (personal catalogs come from it). */
  directory: LdapDirectory | undefined;
  /** Resolves a path from the config relative to the config file. */
  path(p: string): string;
  close(): Promise<void>;
}

export async function buildEnvironment(config: CordonConfig, logger: Logger): Promise<RuntimeEnvironment> {
  const root = config.root;
  const base = config.file ? dirname(resolve(config.file)) : process.cwd();
  const path = (p: string) => resolve(base, p);
  const registry = new PolicyRegistry();
  const files = root.stringList("policies");
  if (files.length === 0) root.fail("policies", "required: expected a list of SPIF policy files");
  files.forEach((file, i) => {
    try {
      registry.loadString(readFileSync(path(file), "utf8"));
    } catch (error) {
      throw new ConfigError(
        `policies[${i}]`,
        `cannot load ${file}: ${(error as Error).message}`,
        config.file,
      );
    }
  });
  const firstId = registry.policies()[0]?.id;
  const governingId = root.optionalString("governingPolicy") ?? firstId ?? "";
  const governing = registry.byId(governingId);
  if (!governing) return root.fail("governingPolicy", `no loaded policy has the id ${governingId}`);

  let store: ClearanceStore;
  const storeSection = root.optionalSection("store");
  const redis = storeSection?.only(["redis", "memory"]).optionalSection("redis");
  if (redis) {
    // One Redis (`url`) or Redis Sentinel (`sentinels` + `sentinelName`): redis-config.ts.
    const redisStore = new RedisStore({ ...readRedisSection(redis).options, logger });
    // Components load persistent state at start: wait for Redis (bounded), then fail clearly.
    await redisStore.ready(10_000);
    store = redisStore;
  } else {
    store = new MemoryStore();
  }
  const governingPolicy: Policy = governing;
  let users: UserClearanceSource = store;
  let directory: LdapDirectory | undefined;
  const dir = root.optionalSection("directory");
  if (dir) {
    dir.only([
      "url",
      "bindDn",
      "secret",
      "baseDn",
      "filter",
      "clearanceAttributes",
      "catalogAttribute",
      "ttlSeconds",
      "cacheBytes",
      "domains",
    ]);
    directory = new LdapDirectory({
      url: dir.string("url"),
      ...(dir.has("bindDn")
        ? { bindDn: dir.string("bindDn"), bindSecret: { value: dir.secret("secret") } }
        : {}),
      baseDn: dir.string("baseDn"),
      filter: dir.string("filter", "(jid={jid})"),
      ...(dir.has("domains") ? { domains: dir.stringList("domains") } : {}),
      clearanceAttributes: dir
        .stringList("clearanceAttributes", ["clearance;binary"])
        .map((attribute) => ({ attribute, encoding: "auto" as const })),
      ...(dir.has("catalogAttribute")
        ? { catalogAttribute: { attribute: dir.string("catalogAttribute"), encoding: "auto" as const } }
        : {}),
      cacheTtlMs: dir.integer("ttlSeconds", 60, { min: 1 }) * 1000,
      ...(dir.has("cacheBytes") ? { cacheMaxBytes: readCacheBytes(dir) } : {}),
      validate: (raw) => {
        try {
          parseClearance(raw.encoding === "ber" ? Buffer.from(raw.data, "base64") : raw.data, registry);
          return true;
        } catch (error) {
          return (error as Error).message;
        }
      },
      logger,
    });
    users = new ClearanceResolver({ store, directory });
  }
  const env: RuntimeEnvironment = {
    config,
    logger,
    registry,
    governing: governingPolicy,
    store,
    users,
    directory,
    path,
    async close() {
      await directory?.close();
      await store.close();
    },
  };
  // The embedded store may be seeded from the config (quickstart and single-process use):
  //   store: { memory: { clearances: { "alice@example.test": { classifications: [...], categories: [...] } } } }
  const memory = storeSection?.optionalSection("memory");
  if (memory && !redis) {
    memory.only(["clearances"]);
    const seeded = memory.optionalSection("clearances");
    for (const [jid] of seeded?.sections() ?? []) {
      const clearance = seeded!.parse(jid, (value, key) => clearanceFromSpec(value, key, specOptions(env)));
      await store.setUserClearance(jid, {
        encoding: "ber",
        data: Buffer.from(encodeBerClearance(clearance)).toString("base64"),
      });
    }
  }
  return env;
}

/**
 * How labels and clearances written in the config are read (@cordon/policy labelFromSpec and
 * clearanceFromSpec): by name in the governing policy, or `{ file: PATH }` relative to the config file.
 */
export function specOptions(env: Pick<RuntimeEnvironment, "registry" | "governing" | "path">): SpecOptions {
  return { registry: env.registry, policy: env.governing.id, readFile: (p) => readFileSync(env.path(p)) };
}
