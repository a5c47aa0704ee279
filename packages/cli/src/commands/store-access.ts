// Shared by `cordon clearance` and `cordon peer`: opening the configured store (Redis only) and
// reading/printing clearance files with @cordon/policy.
import { loadConfigFile } from "@cordon/component";
import { parseClearance, clearanceMarking, decodeBase64, detectFormat } from "@cordon/policy";
import type { PolicyRegistry } from "@cordon/policy";
import { RedisStore, type ClearanceStore, type RawClearance, type RedisStoreOptions } from "@cordon/store";
import { configuredRedis } from "../redis-config.js";
import { readInput, UsageError, type ParsedArgs } from "./io.js";

export const STORE_OPTIONS = ["redis", "prefix", "config"] as const;

const NO_STORE = "the in-memory store lives inside one process, so the CLI needs the shared Redis store";

/**
 * Where the store is: --redis URL (key prefix --prefix), or --config FILE (its `store.redis`, read
 * as `cordon start` reads it: one Redis or Sentinel, password, prefix), else $REDIS_URL (prefix
 * $CORDON_REDIS_PREFIX), else $CORDON_CONFIG. The in-memory store lives inside one process, so a
 * change made by the CLI would vanish with it: these commands require Redis.
 */
export function storeOptions(p: ParsedArgs, env: NodeJS.ProcessEnv = process.env): RedisStoreOptions {
  const url = p.options.get("redis")?.at(-1);
  const config = p.options.get("config")?.at(-1);
  const prefix = p.options.get("prefix")?.at(-1);
  if (url !== undefined && config !== undefined)
    throw new UsageError("give the store once: --redis URL or --config FILE, not both");
  if (config !== undefined && prefix !== undefined)
    throw new UsageError("--prefix comes from the config file's store.redis.prefix with --config");
  if (url !== undefined) {
    const urlPrefix = prefix ?? env.CORDON_REDIS_PREFIX;
    return { url, ...(urlPrefix !== undefined ? { prefix: urlPrefix } : {}) };
  }
  if (config !== undefined) return fromConfig(config);
  if (env.REDIS_URL) {
    const envPrefix = prefix ?? env.CORDON_REDIS_PREFIX;
    return { url: env.REDIS_URL, ...(envPrefix !== undefined ? { prefix: envPrefix } : {}) };
  }
  if (env.CORDON_CONFIG && prefix === undefined) return fromConfig(env.CORDON_CONFIG);
  throw new UsageError(
    `no store configured: pass --redis URL or --config FILE, or set REDIS_URL (${NO_STORE})`,
  );
}

function fromConfig(file: string): RedisStoreOptions {
  const redis = configuredRedis(loadConfigFile(file).root);
  if (!redis) throw new UsageError(`${file} has no store.redis (${NO_STORE})`);
  return redis.options;
}

/** Opens the store `storeOptions` names and waits (3 s) for it. */
export async function openStore(p: ParsedArgs): Promise<ClearanceStore> {
  // No cache: an admin command must read what is in Redis now.
  const store = new RedisStore({ ...storeOptions(p), cacheTtlMs: 0, maxReconnectDelayMs: 200 });
  try {
    await store.ready(3000);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * Reads a clearance file in any supported form — XML (spiffy or XML-SPIF clearance), BER/DER, or
 * BER as base64 text — checks that it parses under the loaded policies, and returns the raw value to
 * store with its display marking.
 */
export function readClearanceFile(
  path: string,
  registry: PolicyRegistry,
): { raw: RawClearance; marking: string; policyId: string } {
  const bytes = readInput(path);
  if (bytes.length === 0) throw new UsageError(`${path} is empty`);
  let der: Uint8Array | undefined;
  if (detectFormat(bytes) === "xml") {
    const text = Buffer.from(bytes).toString("utf8");
    const c = parseClearance(text, registry);
    return { raw: { encoding: "xml", data: text }, marking: clearanceMarking(c), policyId: c.policy.id };
  }
  const text = Buffer.from(bytes).toString("latin1");
  if (/^[A-Za-z0-9+/=\s]+$/u.test(text)) der = decodeBase64(text);
  const ber = der ?? bytes;
  const c = parseClearance(ber, registry);
  return {
    raw: { encoding: "ber", data: Buffer.from(ber).toString("base64") },
    marking: clearanceMarking(c),
    policyId: c.policy.id,
  };
}

/** The display marking of a stored clearance, or a short description when it cannot be decoded. */
export function describeClearance(raw: RawClearance, registry: PolicyRegistry | undefined): string {
  if (registry === undefined) {
    const size =
      raw.encoding === "ber" ? Buffer.from(raw.data, "base64").length : Buffer.byteLength(raw.data);
    return `(${raw.encoding.toUpperCase()} clearance, ${size} bytes; pass --policy SPIF for its marking)`;
  }
  try {
    const c = parseClearance(raw.encoding === "xml" ? raw.data : Buffer.from(raw.data, "base64"), registry);
    return clearanceMarking(c);
  } catch (err) {
    return `(cannot decode: ${err instanceof Error ? err.message : String(err)})`;
  }
}
