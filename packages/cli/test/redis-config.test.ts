// The store.redis section (redis-config.ts): one Redis by url, or Redis Sentinel; strict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, ConfigReader } from "@cordon/component";
import { readRedisSection } from "../src/redis-config.js";

const read = (value: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return readRedisSection(new ConfigReader(value, "store.redis", "cordon.yaml"));
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
};

const fails = (value: Record<string, unknown>, key: string, message: RegExp) =>
  assert.throws(
    () => read(value),
    (e: unknown) => e instanceof ConfigError && e.key === key && message.test(e.message),
    `${JSON.stringify(value)} -> ${key}`,
  );

test("a url: one Redis", () => {
  const r = read({ url: "redis://127.0.0.1:6380/2", prefix: "x:" });
  assert.equal(r.where, "redis://127.0.0.1:6380/2");
  assert.deepEqual(r.options, { url: "redis://127.0.0.1:6380/2", prefix: "x:" });
});

test("maxInFlightBytes: the byte bound of commands a connection holds unanswered (in-flight-bound.ts)", () => {
  const r = read({ url: "redis://127.0.0.1:6380", maxInFlightBytes: 4194304 });
  assert.deepEqual(r.options, { url: "redis://127.0.0.1:6380", maxInFlightBytes: 4194304 });
  fails({ url: "redis://h", maxInFlightBytes: 100 }, "store.redis.maxInFlightBytes", /at least 1024/);
  fails({ url: "redis://h", maxInFlightBytes: "8M" }, "store.redis.maxInFlightBytes", /integer/);
  // adv54: 0, negative, NaN, fractions, booleans fail here; so does a number past 2^53 (it passed here and
  // failed later, when the store was built, without naming the setting).
  for (const bad of [0, -1, Number.NaN, 2048.5, true, "8388608"])
    fails({ url: "redis://h", maxInFlightBytes: bad }, "store.redis.maxInFlightBytes", /integer|at least/);
  fails({ url: "redis://h", maxInFlightBytes: 1e300 }, "store.redis.maxInFlightBytes", /at most/);
});

test("cacheBytes: the byte budget of the cached clearance answers (ttl-cache.ts), a size", () => {
  assert.deepEqual(read({ url: "redis://h", cacheBytes: "4 MiB" }).options, {
    url: "redis://h",
    cacheMaxBytes: 4 * 1024 * 1024,
  });
  assert.deepEqual(read({ url: "redis://h", cacheBytes: 0 }).options, { url: "redis://h", cacheMaxBytes: 0 });
  assert.equal(read({ url: "redis://h" }).options.cacheMaxBytes, undefined, "absent: the store's default");
  for (const bad of [-1, 1.5, "16M", true])
    fails({ url: "redis://h", cacheBytes: bad }, "store.redis.cacheBytes", /expected a size in bytes/);
  fails({ url: "redis://h", cacheBytes: "999999999999 GiB" }, "store.redis.cacheBytes", /too large/);
});

test("durableWrites: replicas that must confirm a clearance write, and WAIT's timeout (durable-write.ts)", () => {
  assert.deepEqual(read({ url: "redis://h", durableWrites: { replicas: 1, timeoutMs: 500 } }).options, {
    url: "redis://h",
    durableWrites: { replicas: 1, timeoutMs: 500 },
  });
  assert.deepEqual(read({ url: "redis://h", durableWrites: { replicas: 0 } }).options.durableWrites, {
    replicas: 0,
  });
  assert.equal(read({ url: "redis://h" }).options.durableWrites, undefined, "absent: the store's default");
  fails({ url: "redis://h", durableWrites: { replica: 1 } }, "store.redis.durableWrites.replica", /unknown/);
  fails(
    { url: "redis://h", durableWrites: { replicas: -1 } },
    "store.redis.durableWrites.replicas",
    /at least/,
  );
  fails(
    { url: "redis://h", durableWrites: { replicas: 1.5 } },
    "store.redis.durableWrites.replicas",
    /integer/,
  );
  fails(
    { url: "redis://h", durableWrites: { timeoutMs: 0 } },
    "store.redis.durableWrites.timeoutMs",
    /at least/,
  );
  fails({ url: "redis://h", durableWrites: 1 }, "store.redis.durableWrites", /mapping/);
});

test("sentinels as HOST:PORT, [IPv6]:PORT or { host, port }, with a master group name and secrets", () => {
  const r = read(
    {
      sentinels: ["10.0.0.1:26379", "[::1]:26380", { host: "sentinel-3.example.mil", port: 26381 }],
      sentinelName: "cordon",
      db: 3,
      password: { env: "T_REDIS_PW" },
      sentinelPassword: { env: "T_SENTINEL_PW" },
    },
    { T_REDIS_PW: "primary-secret", T_SENTINEL_PW: "sentinel-secret" },
  );
  assert.deepEqual(r.options, {
    sentinels: [
      { host: "10.0.0.1", port: 26379 },
      { host: "::1", port: 26380 },
      { host: "sentinel-3.example.mil", port: 26381 },
    ],
    sentinelName: "cordon",
    redisOptions: { password: "primary-secret", db: 3, sentinelPassword: "sentinel-secret" },
  });
  assert.equal(r.where, "sentinel cordon via 10.0.0.1:26379, [::1]:26380, sentinel-3.example.mil:26381 db 3");
  assert.ok(!r.where.includes("secret"), "no secret in what check-config prints");
});

test("strict: every mistake is an error naming its key, never silently ignored", () => {
  const S = { sentinels: ["127.0.0.1:26379"], sentinelName: "cordon" };
  fails({}, "store.redis.url", /required/);
  fails({ url: "http://x" }, "store.redis.url", /redis:\/\//);
  fails({ url: "not a url" }, "store.redis.url", /expected a URL/);
  fails({ url: "redis://h", ...S }, "store.redis.sentinels", /not both/);
  fails({ url: "redis://h", sentinelName: "cordon" }, "store.redis.sentinelName", /only with sentinels/);
  fails({ url: "redis://h", db: 1 }, "store.redis.db", /its path/);
  fails({ url: "redis://:pw@h", password: "x" }, "store.redis.password", /once/);
  fails({ ...S, sentinels: [] }, "store.redis.sentinels", /non-empty/);
  fails({ ...S, sentinels: "127.0.0.1:26379" }, "store.redis.sentinels", /non-empty list/);
  fails({ ...S, sentinels: ["127.0.0.1"] }, "store.redis.sentinels[0]", /HOST:PORT/);
  fails({ ...S, sentinels: ["127.0.0.1:0"] }, "store.redis.sentinels[0]", /1 to 65535/);
  fails({ ...S, sentinels: ["127.0.0.1:65536"] }, "store.redis.sentinels[0]", /1 to 65535/);
  fails({ ...S, sentinels: [{ host: "h", port: "26379" }] }, "store.redis.sentinels[0]", /port/);
  fails({ ...S, sentinels: [{ host: "h", port: 1, tls: true }] }, "store.redis.sentinels[0].tls", /unknown/);
  fails({ ...S, sentinels: [{ port: 1 }] }, "store.redis.sentinels[0].host", /host/);
  fails({ ...S, sentinels: [7] }, "store.redis.sentinels[0]", /HOST:PORT/);
  fails({ ...S, sentinels: ["a:1", { host: "A", port: 1 }] }, "store.redis.sentinels[1]", /listed twice/);
  fails({ sentinels: S.sentinels }, "store.redis.sentinelName", /required/);
  fails({ ...S, sentinelName: "my master" }, "store.redis.sentinelName", /without spaces/);
  fails({ ...S, db: -1 }, "store.redis.db", /at least 0/);
  fails({ ...S, name: "cordon" }, "store.redis.name", /unknown setting/);
  fails({ ...S, password: { env: "T_UNSET_FOR_SURE" } }, "store.redis.password", /not set/);
});
