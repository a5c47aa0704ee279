// Leases of the instances of one clustered component (packages/muc/src/cluster/slot-takeover.ts):
// each live instance renews a lease (Redis server time + leaseMs) with the number of component
// connections it holds; expired leases are dropped by whoever beats next. One sorted set (lease
// expiry) and one hash (connections) per group, both under one hash tag, so the script touches one
// Redis Cluster slot. Bounded: one entry per live instance.
import { Redis, type RedisOptions } from "ioredis";
import { InvalidValueError } from "./errors.js";

const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, m in ipairs(expired) do redis.call('HDEL', KEYS[2], m) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ttl = tonumber(ARGV[2])
if ARGV[1] ~= '' then
  if ARGV[3] == 'leave' then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  end
end
redis.call('PEXPIRE', KEYS[1], ttl * 4)
redis.call('PEXPIRE', KEYS[2], ttl * 4)
return redis.call('HGETALL', KEYS[2])
`;

export interface RedisMembershipOptions {
  /** redis:// URL (a connection of its own), or `sentinels` + `sentinelName`, or `client`. */
  url?: string;
  /** Sentinel nodes (as RedisStore's): ioredis asks them for the primary on each (re)connection. */
  sentinels?: Array<{ host: string; port: number }>;
  sentinelName?: string;
  /** Extra ioredis options (password, tls, db, sentinelPassword), applied last. */
  redisOptions?: RedisOptions;
  client?: Redis;
  /** Key prefix (the store's), e.g. "cordon". */
  prefix?: string;
  /** The group: the component domain the instances share. */
  group: string;
  /** Lease length (default 3000 ms): an instance silent for this long counts as gone. */
  leaseMs?: number;
}

export class RedisMembership {
  readonly leaseMs: number;
  readonly #client: Redis;
  readonly #own: boolean;
  readonly #keys: [string, string];

  constructor(options: RedisMembershipOptions) {
    if (!options.client && !options.url && !options.sentinels)
      throw new InvalidValueError("RedisMembership needs a url, sentinels or a client");
    if (options.sentinels && !options.sentinelName)
      throw new InvalidValueError("RedisMembership with sentinels needs sentinelName");
    if (!/^[^\s{}]{1,255}$/.test(options.group)) throw new InvalidValueError("invalid membership group");
    this.leaseMs = options.leaseMs ?? 3000;
    this.#own = !options.client;
    // A beat that cannot reach Redis fails within a lease (no decision is taken on it: fail closed).
    const common: RedisOptions = {
      maxRetriesPerRequest: 1,
      lazyConnect: false,
      commandTimeout: this.leaseMs,
      ...options.redisOptions,
    };
    this.#client =
      options.client ??
      (options.sentinels
        ? new Redis({ ...common, sentinels: options.sentinels, name: options.sentinelName })
        : new Redis(options.url ?? "", common));
    // Connection errors surface as failed beats (SlotTakeover logs them); no unhandled-error noise.
    if (this.#own) this.#client.on("error", () => undefined);
    const base = `${options.prefix ?? "cordon"}:cluster:{${options.group}}`;
    this.#keys = [`${base}:leases`, `${base}:links`];
  }

  /**
   * Renews `id`'s lease with the connections it holds (or only reads, when `links` is undefined),
   * drops expired leases, and returns the live instances with their connection counts.
   */
  async beat(id: string, links: number | undefined): Promise<Map<string, number>> {
    const reply = (await this.#client.eval(
      BEAT,
      2,
      ...this.#keys,
      links === undefined ? "" : id,
      String(this.leaseMs),
      String(links ?? 0),
    )) as string[];
    const live = new Map<string, number>();
    for (let i = 0; i + 1 < reply.length; i += 2) live.set(reply[i]!, Number(reply[i + 1]));
    return live;
  }

  /** Drops `id`'s lease now (a clean stop; a crash lets it expire). */
  async leave(id: string): Promise<void> {
    await this.#client.eval(BEAT, 2, ...this.#keys, id, String(this.leaseMs), "leave");
  }

  async close(): Promise<void> {
    if (this.#own) await this.#client.quit().catch(() => undefined);
  }
}
