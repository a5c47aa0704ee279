// Leases of the instances of one clustered component (packages/muc/src/cluster/slot-takeover.ts):
// each live instance renews a lease (Redis server time + leaseMs) with the number of component
// connections it holds; expired leases are dropped by whoever beats next. One sorted set (lease
// expiry) and one hash (connections) per group, and the same pair for instance names (each claimed
// with a random token of the process, so two processes given one name are told apart: the second
// gets DuplicateInstanceError), all under one hash tag, so the script touches one Redis Cluster slot.
// Bounded: one entry per live instance.
import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { DuplicateInstanceError, InvalidValueError } from "./errors.js";
import { InFlightBound } from "./in-flight-bound.js";

// KEYS: leases (zset id → expiry), links (hash id → connections), names (zset id → expiry),
// tokens (hash id → the claiming process's token), contested (set of ids). ARGV: id ('' = read
// only), lease ms, links ('' = claim the name only, 'leave'), token. A name is claimed on every beat
// of its instance, live link or not; while claimed by another token it is refused (first come keeps
// it) and a leave by another token drops nothing. A refused process that still had live links (it
// held a slot: it had been paused or cut off past its claim, and it now stands down, freeing its
// slot) marks the name contested; the holder's next claim takes the mark (its silent links may be
// the slotless ones: adversarial review adv44). Reply: {links as HGETALL, 1 if contested}.
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, m in ipairs(expired) do redis.call('HDEL', KEYS[2], m) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, m in ipairs(lapsed) do redis.call('HDEL', KEYS[4], m) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local ttl = tonumber(ARGV[2])
local contested = 0
if ARGV[1] ~= '' then
  local holder = redis.call('HGET', KEYS[4], ARGV[1])
  if holder and holder ~= ARGV[4] then
    if ARGV[3] ~= 'leave' then
      local links = tonumber(ARGV[3])
      if links and links > 0 then redis.call('SADD', KEYS[5], ARGV[1]) end
      for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl * 4) end
      return redis.error_reply('DUPLICATE_INSTANCE')
    end
  elseif ARGV[3] == 'leave' then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('ZREM', KEYS[3], ARGV[1])
    redis.call('HDEL', KEYS[4], ARGV[1])
    redis.call('SREM', KEYS[5], ARGV[1])
  else
    contested = redis.call('SREM', KEYS[5], ARGV[1])
    redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
    redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
    if ARGV[3] ~= '' then
      redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
      redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
    end
  end
end
for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ttl * 4) end
return {redis.call('HGETALL', KEYS[2]), contested}
`;

/**
 * The live instances → their link counts. `contested`: a process refused this instance's name while
 * it still had live links since the last claim (it stands down and frees what it held).
 */
export type LiveInstances = Map<string, number> & { contested?: boolean };

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
  /** Bytes of beats its own connection may hold unanswered (default 8 MiB; in-flight-bound.ts). */
  maxInFlightBytes?: number;
}

export class RedisMembership {
  readonly leaseMs: number;
  readonly #client: Redis;
  readonly #own: boolean;
  readonly #bound: InFlightBound | undefined;
  readonly #keys: [string, string, string, string, string];
  /** This process's claim on its instance names (never logged). */
  readonly #token = randomBytes(12).toString("base64url");

  constructor(options: RedisMembershipOptions) {
    if (!options.client && !options.url && !options.sentinels)
      throw new InvalidValueError("RedisMembership needs a url, sentinels or a client");
    if (options.sentinels && !options.sentinelName)
      throw new InvalidValueError("RedisMembership with sentinels needs sentinelName");
    if (!/^[^\s{}]{1,255}$/.test(options.group)) throw new InvalidValueError("invalid membership group");
    this.leaseMs = options.leaseMs ?? 3000;
    this.#own = !options.client;
    // A beat that cannot reach Redis fails within a lease (no decision is taken on it: fail closed).
    const timeoutMs = options.redisOptions?.commandTimeout ?? this.leaseMs;
    const common: RedisOptions = {
      maxRetriesPerRequest: 1,
      lazyConnect: false,
      ...options.redisOptions,
      // The timeout is InFlightBound's (it must see when ioredis lets go of a timed-out beat).
      commandTimeout: undefined,
    };
    this.#client =
      options.client ??
      (options.sentinels
        ? new Redis({ ...common, sentinels: options.sentinels, name: options.sentinelName })
        : new Redis(options.url ?? "", common));
    // Its own connection: beats sent while Redis does not answer are held in bytes, as the store's.
    this.#bound = this.#own
      ? new InFlightBound(this.#client, {
          maxBytes: options.maxInFlightBytes,
          timeoutMs,
          what: "redis cluster membership",
        })
      : undefined;
    // Connection errors surface as failed beats (SlotTakeover logs them); no unhandled-error noise.
    if (this.#own) this.#client.on("error", () => undefined);
    const base = `${options.prefix ?? "cordon"}:cluster:{${options.group}}`;
    this.#keys = [`${base}:leases`, `${base}:links`, `${base}:names`, `${base}:tokens`, `${base}:contested`];
  }

  /**
   * Renews `id`'s lease with the connections it holds (or, when `links` is undefined, only its claim
   * on the name), drops expired leases, and returns the live instances with their connection counts.
   * `id` "" only reads. Throws DuplicateInstanceError while another process holds the name.
   */
  async beat(id: string, links: number | undefined): Promise<LiveInstances> {
    const [flat, contested] = (await this.#eval(id, links === undefined ? "" : String(links))) as [
      string[],
      number,
    ];
    const live: LiveInstances = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) live.set(flat[i]!, Number(flat[i + 1]));
    if (contested === 1) live.contested = true;
    return live;
  }

  /** Drops `id`'s lease and name now (a clean stop; a crash lets them expire); not another process's. */
  async leave(id: string): Promise<void> {
    // Never refused by the bound: it goes after the beats held, and drops the lease one of them may
    // still renew once Redis answers (the order adv44 relies on; adv54).
    const bound = this.#bound;
    await (bound ? bound.unrefused(() => this.#eval(id, "leave")) : this.#eval(id, "leave"));
  }

  async #eval(id: string, links: string): Promise<unknown> {
    try {
      return await this.#client.eval(BEAT, 5, ...this.#keys, id, String(this.leaseMs), links, this.#token);
    } catch (error) {
      if (error instanceof Error && /DUPLICATE_INSTANCE/u.test(error.message))
        throw new DuplicateInstanceError(id);
      throw error;
    }
  }

  async close(): Promise<void> {
    // QUIT refused (in-flight bound full: Redis stalled) or not answered in time: the connection is
    // dropped all the same, with what it held (adversarial review adv54: it stayed open, reconnecting).
    if (this.#own) await this.#client.quit().catch(() => this.#client.disconnect());
  }
}
