// The `store.redis` section, read the same way by `cordon start` (environment.ts) and
// `cordon check-config`:
//   store:
//     redis:
//       url: redis://127.0.0.1:6379/0          # a single Redis, or:
//       sentinels: ["10.0.0.1:26379", { host: 10.0.0.2, port: 26379 }, "[::1]:26379"]
//       sentinelName: cordon                   # the master group the sentinels monitor
//       db: 0                                  # sentinels only (with a url: its path)
//       password: { env: CORDON_REDIS_PASSWORD }            # optional: requirepass of primary and replicas
//       sentinelPassword: { env: CORDON_SENTINEL_PASSWORD } # optional: requirepass of the sentinels
//       prefix: "cordon:"
//       maxInFlightBytes: 8388608              # optional: bytes of commands a connection may hold
//                                              # unanswered (packages/store/src/in-flight-bound.ts)
//       cacheBytes: 16 MiB                     # optional: bytes the cached clearance answers may hold
//                                              # (packages/store/src/ttl-cache.ts; 0: no cache)
//       durableWrites: { replicas: 1, timeoutMs: 1000 }  # optional: replicas that must confirm a
//                                              # clearance write (Redis WAIT) before it is reported
//                                              # done; default through Sentinel 1 when it knows a
//                                              # replica, with a url 0 (packages/store/src/durable-write.ts)
// Exactly one of `url` and `sentinels`; everything else strict (unknown keys, bad ports, duplicate
// sentinels, a sentinel setting without sentinels are errors, never silently ignored).
// ioredis Sentinel support: https://github.com/redis/ioredis#sentinel.
import type { ConfigReader } from "@cordon/component";
import type { RedisStoreOptions } from "@cordon/store";
import { readCacheBytes } from "./cache-bytes.js";

export interface RedisSection {
  /** What check-config prints (no secrets). */
  readonly where: string;
  readonly prefix: string | undefined;
  /** RedisStore options, without the logger. */
  readonly options: RedisStoreOptions;
}

const KEYS = [
  "url",
  "prefix",
  "sentinels",
  "sentinelName",
  "db",
  "password",
  "sentinelPassword",
  "maxInFlightBytes",
  "cacheBytes",
  "durableWrites",
] as const;

function sentinelAddress(redis: ConfigReader, entry: unknown, i: number): { host: string; port: number } {
  const key = `sentinels[${i}]`;
  let host: unknown;
  let port: unknown;
  if (typeof entry === "string") {
    // HOST:PORT, or [IPv6]:PORT (RFC 3986 §3.2.2 brackets).
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/u.exec(entry);
    if (!m) return redis.fail(key, `expected HOST:PORT or [IPv6]:PORT, got "${entry.slice(0, 60)}"`);
    host = m[1] ?? m[2];
    port = Number(m[3]);
  } else if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
    const o = entry as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (k !== "host" && k !== "port") redis.fail(`${key}.${k}`, "unknown setting (expected host, port)");
    host = o.host;
    port = o.port;
    if (typeof host !== "string" || host.length === 0 || /\s/u.test(host))
      return redis.fail(`${key}.host`, "expected a host name or address");
  } else {
    return redis.fail(key, "expected HOST:PORT or { host, port }");
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    return redis.fail(key, "expected a port from 1 to 65535");
  return { host: host as string, port };
}

export function readRedisSection(redis: ConfigReader): RedisSection {
  redis.only(KEYS);
  const prefix = redis.has("prefix") ? redis.string("prefix") : undefined;
  const hasUrl = redis.has("url");
  const hasSentinels = redis.has("sentinels");
  if (hasUrl && hasSentinels)
    redis.fail("sentinels", "give either url (one Redis) or sentinels (Redis Sentinel), not both");
  const password = redis.has("password") ? redis.secret("password") : undefined;
  const bound: Pick<RedisStoreOptions, "maxInFlightBytes" | "cacheMaxBytes" | "durableWrites"> = {};
  const durable = redis.optionalSection("durableWrites");
  if (durable !== undefined) {
    durable.only(["replicas", "timeoutMs"]);
    // (The store checks the pair against its command timeout when it is built: checkDurability.)
    bound.durableWrites = {
      ...(durable.has("replicas")
        ? { replicas: durable.integer("replicas", undefined, { min: 0, max: 100 }) }
        : {}),
      ...(durable.has("timeoutMs") ? { timeoutMs: durable.integer("timeoutMs", undefined, { min: 1 }) } : {}),
    };
  }
  if (redis.has("maxInFlightBytes"))
    bound.maxInFlightBytes = redis.integer("maxInFlightBytes", undefined, {
      min: 1024,
      // (the store's own check, checkMaxInFlightBytes: a larger number failed only when the store was built)
      max: Number.MAX_SAFE_INTEGER,
    });
  const cacheMaxBytes = readCacheBytes(redis);
  if (cacheMaxBytes !== undefined) bound.cacheMaxBytes = cacheMaxBytes;
  const extra: NonNullable<RedisStoreOptions["redisOptions"]> = {};
  if (password !== undefined) extra.password = password;

  if (hasSentinels) {
    const list = redis.value.sentinels;
    if (!Array.isArray(list) || list.length === 0)
      redis.fail("sentinels", "expected a non-empty list of HOST:PORT or { host, port }");
    const sentinels = list.map((entry, i) => sentinelAddress(redis, entry, i));
    const seen = new Set<string>();
    sentinels.forEach((s, i) => {
      const id = `${s.host.toLowerCase()}:${s.port}`;
      if (seen.has(id)) redis.fail(`sentinels[${i}]`, `${id} is listed twice`);
      seen.add(id);
    });
    const sentinelName = redis.string("sentinelName");
    if (/\s/u.test(sentinelName)) redis.fail("sentinelName", "expected a master group name without spaces");
    const db = redis.integer("db", 0, { min: 0 });
    if (db !== 0) extra.db = db;
    if (redis.has("sentinelPassword")) extra.sentinelPassword = redis.secret("sentinelPassword");
    const hosts = sentinels.map((s) =>
      s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`,
    );
    return {
      where: `sentinel ${sentinelName} via ${hosts.join(", ")}${db !== 0 ? ` db ${db}` : ""}`,
      prefix,
      options: {
        sentinels,
        sentinelName,
        ...bound,
        ...(prefix !== undefined ? { prefix } : {}),
        ...(Object.keys(extra).length > 0 ? { redisOptions: extra } : {}),
      },
    };
  }

  for (const k of ["sentinelName", "sentinelPassword", "db"] as const)
    if (redis.has(k))
      redis.fail(
        k,
        k === "db" ? "with a url, the database is its path (redis://HOST:PORT/DB)" : "only with sentinels",
      );
  if (!hasUrl) redis.fail("url", "required: a redis:// or rediss:// URL, or sentinels + sentinelName");
  const url = redis.string("url");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redis.fail("url", "expected a URL such as redis://127.0.0.1:6379/0");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    redis.fail("url", `expected a redis:// or rediss:// URL, got ${u.protocol}`);
  if (password !== undefined && u.password !== "")
    redis.fail("password", "the url already carries a password: give it once");
  return {
    where: `${u.protocol}//${u.hostname}:${u.port || "6379"}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`,
    prefix,
    options: {
      url,
      ...bound,
      ...(prefix !== undefined ? { prefix } : {}),
      ...(Object.keys(extra).length > 0 ? { redisOptions: extra } : {}),
    },
  };
}

/** `store.redis` of a config, read as above; undefined with the in-memory store. */
export function configuredRedis(root: ConfigReader): RedisSection | undefined {
  const redis = root.optionalSection("store")?.only(["redis", "memory"]).optionalSection("redis");
  return redis ? readRedisSection(redis) : undefined;
}
