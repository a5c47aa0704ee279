// What every component runner shares, built once from the top level of the config file:
//   policies: [SPIF files]          loaded into one registry (the first is the governing policy
//   governingPolicy: OID             unless this names another)
//   store: { redis: { url | sentinels + sentinelName, prefix } } or omitted for the embedded in-memory store
//   directory: { url, bindDn, secret, baseDn, filter, clearanceAttributes, catalogAttribute, ttlSeconds }
// plus helpers to read labels and clearances written in the config by name.
import { dirname, resolve } from "node:path";
import { readFileSync } from "node:fs";
import {
  PolicyRegistry,
  encodeBerClearance,
  makeClearance,
  makeLabel,
  parseClearance,
  parseLabelData,
  type Clearance,
  type Label,
  type Policy,
} from "@cordon/policy";
import {
  MemoryStore,
  RedisStore,
  LdapDirectory,
  ClearanceResolver,
  type ClearanceStore,
  type UserClearanceSource,
} from "@cordon/store";
import { ConfigError, type ConfigReader, type CordonConfig, type Logger } from "@cordon/component";

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
    redis.only(["url", "prefix", "sentinels", "sentinelName"]);
    // Either a URL, or Redis Sentinel: `sentinels: ["127.0.0.1:26379", ...]` and `sentinelName`.
    const sentinels = redis.stringList("sentinels").map((entry, i) => {
      const m = /^([^:\s]+):(\d{1,5})$/.exec(entry);
      if (!m) return redis.fail(`sentinels[${i}]`, `expected HOST:PORT, got "${entry}"`);
      return { host: m[1]!, port: Number(m[2]) };
    });
    const redisStore = new RedisStore({
      ...(sentinels.length > 0
        ? { sentinels, sentinelName: redis.string("sentinelName") }
        : { url: redis.string("url") }),
      ...(redis.has("prefix") ? { prefix: redis.string("prefix") } : {}),
      logger,
    });
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
    ]);
    directory = new LdapDirectory({
      url: dir.string("url"),
      ...(dir.has("bindDn")
        ? { bindDn: dir.string("bindDn"), bindSecret: { value: dir.secret("secret") } }
        : {}),
      baseDn: dir.string("baseDn"),
      filter: dir.string("filter", "(jid={jid})"),
      clearanceAttributes: dir
        .stringList("clearanceAttributes", ["clearance;binary"])
        .map((attribute) => ({ attribute, encoding: "auto" as const })),
      ...(dir.has("catalogAttribute")
        ? { catalogAttribute: { attribute: dir.string("catalogAttribute"), encoding: "auto" as const } }
        : {}),
      cacheTtlMs: dir.integer("ttlSeconds", 60, { min: 1 }) * 1000,
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
      const clearance = readClearance(env, seeded!, jid);
      await store.setUserClearance(jid, {
        encoding: "ber",
        data: Buffer.from(encodeBerClearance(clearance)).toString("base64"),
      });
    }
  }
  return env;
}

/**
 * A label written in the config: `{ classification: NAME, categories: [NAME, ...] }` in the governing
 * policy, or `{ file: PATH }` (any supported label format).
 */
export function readLabel(env: RuntimeEnvironment, section: ConfigReader, name: string): Label {
  const spec = section.section(name);
  if (spec.has("file")) {
    spec.only(["file"]);
    try {
      return parseLabelData(readFileSync(env.path(spec.string("file"))), env.registry);
    } catch (error) {
      spec.fail("file", `cannot read the label: ${(error as Error).message}`);
    }
  }
  spec.only(["classification", "categories"]);
  const policy = env.governing;
  const className = spec.string("classification");
  const classification = policy.classifications.find((c) => c.name === className);
  if (!classification)
    return spec.fail("classification", `the policy "${policy.name}" has no classification "${className}"`);
  const categories = spec.stringList("categories").map((n) => categoryByName(spec, policy, n));
  return makeLabel(policy, classification, categories);
}

/** A clearance: `{ classifications: [...], categories: [...] }` or `{ file: PATH }`. */
export function readClearance(env: RuntimeEnvironment, section: ConfigReader, name: string): Clearance {
  const spec = section.section(name);
  if (spec.has("file")) {
    spec.only(["file"]);
    try {
      return parseClearance(readFileSync(env.path(spec.string("file"))), env.registry);
    } catch (error) {
      spec.fail("file", `cannot read the clearance: ${(error as Error).message}`);
    }
  }
  spec.only(["classifications", "categories"]);
  const policy = env.governing;
  const classes = spec.stringList("classifications").map((n) => {
    const c = policy.classifications.find((x) => x.name === n);
    if (!c) return spec.fail("classifications", `the policy "${policy.name}" has no classification "${n}"`);
    return c;
  });
  return makeClearance(
    policy,
    classes,
    spec.stringList("categories").map((n) => categoryByName(spec, policy, n)),
  );
}

function categoryByName(spec: ConfigReader, policy: Policy, name: string) {
  const found = policy.categories.filter((c) => c.name === name);
  if (found.length !== 1)
    spec.fail(
      "categories",
      found.length
        ? `"${name}" is ambiguous in the policy`
        : `the policy "${policy.name}" has no category "${name}"`,
    );
  return found[0]!;
}
