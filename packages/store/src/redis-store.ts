// The Redis store (ioredis): shared state of every Cordon component process, with notifications
// over pub/sub on a separate connection. Key schema: key-schema.ts and the README.
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { ConnectionWatch } from "./connection-watch.js";
import { checkMaxInFlightBytes, InFlightBound } from "./in-flight-bound.js";
import {
  CorruptRecordError,
  InvalidValueError,
  NotDurableError,
  RoomNotStoredError,
  StoreClosedError,
  StoreUnavailableError,
} from "./errors.js";
import { checkDurability, DurableWriter, type DurabilityOptions } from "./durable-write.js";
import { decodeEvent, encodeEvent } from "./events.js";
import { domainOf, normaliseBareJid, normaliseDomain } from "./jid.js";
import { catalogKeyPart, DEFAULT_POLICY_FIELD, KeySchema } from "./key-schema.js";
import {
  DEFAULT_HISTORY_BATCH_LIMITS,
  HistoryBatcher,
  type HistoryBatchLimits,
  type HistoryGroup,
} from "./history-batch.js";
import { ListenerSet } from "./listeners.js";
import { silentLogger } from "./logger.js";
import { DEFAULT_HISTORY_CAP, type ClearanceStore } from "./store.js";
import { checkCacheBytes, TtlCache } from "./ttl-cache.js";
import { rawRecordBytes, rawValueBytes } from "./value-bytes.js";
import { NotificationBarrier } from "./notification-barrier.js";
import { BEFORE_DEADLINE, WriteDeadline } from "./write-deadline.js";
import {
  AFFILIATIONS,
  type Affiliation,
  type CatalogScope,
  type ClearanceLookup,
  type PeerClearanceEntry,
  type PeerDirection,
  type RawClearance,
  type RawValue,
  type RoomRecord,
  type ServiceClearanceEntry,
  type StoreEvent,
  type StoreListener,
  type Unsubscribe,
  type UserClearanceEntry,
  type ListPageQuery,
  type UserClearancePage,
} from "./types.js";
import {
  checkAffiliation,
  checkCap,
  checkDirection,
  checkPageQuery,
  checkPolicy,
  checkRaw,
  normaliseRoom,
  normaliseScope,
} from "./validate.js";

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (ignored when `sentinels` is set, except for credentials you pass in redisOptions). */
  url?: string;
  /** Sentinel nodes; with `sentinelName`, ioredis discovers and follows the master. */
  sentinels?: Array<{ host: string; port: number }>;
  /** Master group name monitored by the sentinels. */
  sentinelName?: string;
  /** Key prefix (default "cordon:"). */
  prefix?: string;
  /**
   * How long a clearance answer may be reused without asking Redis (default 5000 ms; 0 disables).
   * Cached answers are dropped at once on a change notification, and reused past a Redis failure
   * only within this TTL: after it, lookups answer "unknown".
   */
  cacheTtlMs?: number;
  /**
   * Bytes the cached clearance answers may hold (default 16 MiB; ttl-cache.ts): three quarters for
   * users' clearances, a quarter for services' and peers'. Keys, values and overheads are counted;
   * the least recently used answers go first. 0 disables the cache.
   */
  cacheMaxBytes?: number;
  /**
   * A command not answered within this time fails (default 2000 ms). Also the subscriber's PING:
   * unanswered this long, the store says "connection down" until one answers (notification-barrier.ts).
   */
  commandTimeoutMs?: number;
  /** TCP connect timeout (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Longest delay between reconnection attempts (default 1000 ms). */
  maxReconnectDelayMs?: number;
  /** Default cap of room history lists (default 200). */
  historyCap?: number;
  /**
   * Bounds of one batch of history appends (history-batch.ts; default 256 entries, 1 MiB). Appends
   * waiting at one moment go to Redis in one call; past a bound, what waits is sent and a new batch begins.
   */
  historyBatch?: Partial<HistoryBatchLimits>;
  /**
   * Bytes of commands each Redis connection may hold unanswered (default 8 MiB; in-flight-bound.ts):
   * past it, a command fails at once with StoreUnavailableError and nothing is queued. Counted until
   * Redis answers or the connection closes — a command that timed out stays counted.
   */
  maxInFlightBytes?: number;
  /**
   * How old "every notification heard up to" may be before cached answers are not reused and
   * components hold incoming stanzas until a PING on the subscriber answers (default 1000 ms;
   * notification-barrier.ts).
   */
  notificationLagMs?: number;
  /**
   * An event-loop stall longer than this (a SIGSTOP, a long synchronous task or GC pause) also asks
   * for a PING sent after it before the cache is reused or stanzas go on (default 50 ms; stall-watch.ts).
   */
  notificationStallMs?: number;
  /**
   * Clearance writes (user, service, peer; set and delete) wait for this many replicas (Redis WAIT)
   * before they return; fewer within `timeoutMs` and they throw NotDurableError (durable-write.ts).
   * `replicas` defaults to 1 through Sentinel when the sentinels know a replica (0 when they know
   * none), 0 with a URL; `timeoutMs` to min(1000, commandTimeoutMs / 2).
   */
  durableWrites?: DurabilityOptions;
  logger?: Logger;
  /** Extra ioredis options (password, tls, db, sentinelPassword, ...), applied last. */
  redisOptions?: RedisOptions;
}

// Lua scripts: each change and its notification happen atomically on the server.
// Every write of clearances, rooms and catalogs checks its deadline first (write-deadline.ts),
// ARGV[1] the deadline: one that reaches Redis after its caller was told it failed is refused.
// Set a hash field and publish. KEYS[1]=hash; ARGV=deadline, field, value, channel, event.
const HSET_PUBLISH_BY = `${BEFORE_DEADLINE}
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;
// Set a user clearance and index the user. KEYS[1]=user hash, KEYS[2]=users set;
// ARGV=deadline, field, value, jid, channel, event.
const SET_USER_BY = `${BEFORE_DEADLINE}
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1`;
// HDEL_PUBLISH with a deadline. KEYS[1]=hash; ARGV=deadline, field, channel, event.
const HDEL_PUBLISH_BY = `${BEFORE_DEADLINE}
local n = redis.call('HDEL', KEYS[1], ARGV[2])
if n > 0 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return n`;
// DEL_USER with a deadline. KEYS[1]=user hash, KEYS[2]=users set; ARGV=deadline, field, jid, channel, event.
const DEL_USER_BY = `${BEFORE_DEADLINE}
local n = redis.call('HDEL', KEYS[1], ARGV[2])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[3]) end
if n > 0 then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return n`;
// Room writes (session 16; were MULTI transactions and scripts without a deadline): a room's
// configuration written late — its label, clearance, affiliations — would undo a change its owner
// made meanwhile (a label lowered or raised again, an outcast admitted again).
// Store a room record and replace its affiliations. KEYS=room, aff, rooms; ARGV=deadline, record,
// jid, channel, event, then the affiliations as who, affiliation pairs. HSET in chunks of 500 pairs:
// Lua's unpack puts its values on the script's stack (Lua 5.1 LUAI_MAXCSTACK, 8,000).
const PUT_ROOM_BY = `${BEFORE_DEADLINE}
redis.call('HSET', KEYS[1], 'record', ARGV[2])
redis.call('DEL', KEYS[2])
local n = #ARGV
local i = 6
while i <= n do
  local j = math.min(i + 999, n)
  redis.call('HSET', KEYS[2], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;
// Set or remove one affiliation of an existing room. KEYS[1]=room, KEYS[2]=aff;
// ARGV=deadline, who, aff|none, channel, event.
const SET_AFF_BY = `${BEFORE_DEADLINE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] == 'none' then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;
// Delete a room, its affiliations and history. KEYS=room, aff, history, rooms; ARGV=deadline, jid, channel, event.
const DEL_ROOM_BY = `${BEFORE_DEADLINE}
local n = redis.call('DEL', KEYS[1])
local h = redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[2])
if n + h > 0 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return n`;

// Append history entries and keep the newest of each list: one call for every append waiting at one
// moment (history-batch.ts), several rooms per call. Group i: KEYS[2i-1] the history list, KEYS[2i]
// the room's record, ARGV[2i-1] its entry count, ARGV[2i] its cap; the entries follow, group after
// group, in call order. One RPUSH of a group then one LTRIM leaves what one RPUSH+LTRIM per entry
// left. A group Redis refuses (WRONGTYPE) fails alone, as its one-at-a-time appends did: its error
// text is returned, '' for a stored group. A group whose room record does not exist is refused
// (ROOM_NOT_STORED, session 17): an append that arrives after the room was deleted — sent by another
// process, or held on the way (test/redis-late-history.test.ts) — wrote the history of a room that no
// longer existed, and whoever next created a room of that JID found it (the MUC loads a stored room's
// history). Checked in the script, so no delete can fall between the check and the write.
// Sent as EVAL with its text every time, like the other scripts here — not EVALSHA (ioredis
// defineCommand): a script cache emptied under a live connection (SCRIPT FLUSH; a first EVAL refused
// with BUSY leaves ioredis believing it cached) answers NOSCRIPT, and ioredis sends the batch again
// after whatever was written meanwhile — a deleteRoom called after the appends ran first and the
// deleted room's history was recreated (adversarial review adv49). One batch carries many appends, so
// the text (~0.8 KB) costs little per append.
const ROOM_NOT_STORED = "ROOM_NOT_STORED";
const APPEND_BATCH = `
local n = #KEYS / 2
local a = 2 * n + 1
local out = {}
for i = 1, n do
  local c = tonumber(ARGV[2 * i - 1])
  if redis.call('EXISTS', KEYS[2 * i]) == 0 then
    out[i] = '${ROOM_NOT_STORED}'
  else
    local r = redis.pcall('RPUSH', KEYS[2 * i - 1], unpack(ARGV, a, a + c - 1))
    if type(r) == 'table' and r.err then
      out[i] = r.err
    else
      redis.call('LTRIM', KEYS[2 * i - 1], -tonumber(ARGV[2 * i]), -1)
      out[i] = ''
    end
  end
  a = a + c
end
return out`;

type UserMap = Record<string, RawClearance>;

/** Commands one connection holds unanswered (bytes of their names and arguments), and its refusals. */
export interface InFlightStats {
  readonly bytes: number;
  readonly commands: number;
  readonly refused: number;
  readonly maxBytes: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseRaw(text: string, key: string): RawValue {
  try {
    return checkRaw(JSON.parse(text) as RawValue, key);
  } catch (err) {
    throw new CorruptRecordError(key, { cause: err });
  }
}

export class RedisStore implements ClearanceStore {
  readonly keys: KeySchema;
  readonly #client: Redis;
  readonly #sub: Redis;
  readonly #log: Logger;
  readonly #listeners: ListenerSet;
  readonly #mainWatch: ConnectionWatch;
  readonly #subWatch: ConnectionWatch;
  readonly #users: TtlCache<UserMap>;
  readonly #others: TtlCache<RawClearance | null>;
  readonly #historyCap: number;
  readonly #history: HistoryBatcher;
  readonly #inFlight: InFlightBound;
  readonly #subInFlight: InFlightBound;
  readonly #barrier: NotificationBarrier;
  readonly #deadline: WriteDeadline;
  readonly #durable: DurableWriter;
  #subscribed = false;
  /** Longest reconnection delay: also how soon a refused SUBSCRIBE is sent again. */
  #retryMs = 1000;
  #closed = false;

  constructor(opts: RedisStoreOptions = {}) {
    if (opts.url === undefined && opts.sentinels === undefined) {
      throw new InvalidValueError("RedisStore needs a url or sentinels");
    }
    if (opts.sentinels !== undefined && opts.sentinelName === undefined) {
      throw new InvalidValueError("RedisStore with sentinels needs sentinelName (the master group name)");
    }
    this.keys = new KeySchema(opts.prefix);
    this.#log = opts.logger ?? silentLogger();
    this.#listeners = new ListenerSet(this.#log);
    this.#historyCap = checkCap(opts.historyCap, DEFAULT_HISTORY_CAP, "historyCap");
    const ttl = opts.cacheTtlMs ?? 5000;
    const max = checkCacheBytes(opts.cacheMaxBytes);
    this.#users = new TtlCache(ttl, max - Math.floor(max / 4), rawRecordBytes);
    this.#others = new TtlCache(ttl, Math.floor(max / 4), (v) => (v === null ? 0 : rawValueBytes(v)));
    const maxDelay = opts.maxReconnectDelayMs ?? 1000;
    this.#retryMs = maxDelay;
    const maxInFlight = checkMaxInFlightBytes(opts.maxInFlightBytes);
    const commandTimeoutMs = opts.redisOptions?.commandTimeout ?? opts.commandTimeoutMs ?? 2000;
    const common: RedisOptions = {
      // Fail fast instead of queueing while disconnected: callers must get "unknown" now, not later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: opts.connectTimeoutMs ?? 2000,
      retryStrategy: (times: number) => Math.min(50 * times, maxDelay),
      ...opts.redisOptions,
      // The command timeout is InFlightBound's: ioredis' own settles the command, and the bound must
      // know when ioredis lets go of it (Redis's answer or a closed connection), not when it timed out.
      commandTimeout: undefined,
    };
    const client =
      opts.sentinels !== undefined
        ? new Redis({
            // ioredis Sentinel support: the sentinels name the primary on each (re)connection, and
            // the role of what they name is checked (ioredis README, "Sentinel"). Not its
            // `failoverDetector`: in ioredis 6.0.0 a +switch-master that arrives while the client is
            // already reconnecting ends the client for good (status connecting -> end; seen in 2 of 5
            // failovers under traffic, test/e2e/test/muc-sentinel.test.ts). A killed primary closes
            // the connection anyway, and the reconnection asks the sentinels.
            ...common,
            sentinels: opts.sentinels,
            name: opts.sentinelName,
          })
        : new Redis(opts.url ?? "", common);
    this.#client = client;
    this.#inFlight = new InFlightBound(client, {
      maxBytes: maxInFlight,
      timeoutMs: commandTimeoutMs,
      what: "redis",
    });
    // Lua's unpack puts a group's entries on the script's stack (Lua 5.1 LUAI_MAXCSTACK, 8,000).
    if ((opts.historyBatch?.maxEntries ?? 0) > 4000)
      throw new InvalidValueError("historyBatch.maxEntries must be at most 4000");
    this.#history = new HistoryBatcher((groups) => this.#sendHistory(groups), {
      maxEntries: checkCap(
        opts.historyBatch?.maxEntries,
        DEFAULT_HISTORY_BATCH_LIMITS.maxEntries,
        "historyBatch.maxEntries",
      ),
      maxBytes: checkCap(
        opts.historyBatch?.maxBytes,
        DEFAULT_HISTORY_BATCH_LIMITS.maxBytes,
        "historyBatch.maxBytes",
      ),
    });
    // The subscriber connection: SUBSCRIBE is sent on each "ready" (and again while refused).
    // (Its SUBSCRIBE is ours on every "ready", not ioredis' autoResubscribe: ioredis emits "ready"
    // before it resubscribes, and the store must know when the subscription is in place again.)
    this.#sub = this.#client.duplicate({
      enableOfflineQueue: false,
      commandTimeout: undefined,
      autoResubscribe: false,
    });
    this.#subInFlight = new InFlightBound(this.#sub, { maxBytes: maxInFlight, what: "redis pub/sub" });
    this.#barrier = new NotificationBarrier(
      { ping: () => this.#sub.ping() },
      {
        maxLagMs: opts.notificationLagMs ?? 1000,
        stallMs: opts.notificationStallMs ?? 50,
        timeoutMs: commandTimeoutMs,
        onBehind: () => this.#behind(),
        onCaughtUp: () => this.#caughtUp(),
      },
    );
    this.#deadline = new WriteDeadline(() => this.#client.time(), commandTimeoutMs);
    const durability = checkDurability(opts.durableWrites, commandTimeoutMs);
    const ro = opts.redisOptions;
    this.#durable = new DurableWriter(
      () =>
        this.#client.duplicate({ lazyConnect: true, enableOfflineQueue: false, commandTimeout: undefined }),
      {
        ...durability,
        commandTimeoutMs,
        maxInFlightBytes: maxInFlight,
        sentinel:
          opts.sentinels === undefined || opts.sentinelName === undefined
            ? undefined
            : {
                sentinels: opts.sentinels,
                name: opts.sentinelName,
                options: {
                  ...(ro?.sentinelUsername !== undefined ? { username: ro.sentinelUsername } : {}),
                  ...(ro?.sentinelPassword !== undefined ? { password: ro.sentinelPassword } : {}),
                  ...(ro?.sentinelTLS !== undefined ? { tls: ro.sentinelTLS } : {}),
                },
              },
      },
    );
    this.#mainWatch = new ConnectionWatch(this.#log, "redis");
    this.#subWatch = new ConnectionWatch(this.#log.child({ connection: "subscriber" }), "redis pub/sub");

    // "up" only while the subscriber is not down: subscribers (the guard's verdict cache) take
    // "up" to mean that notifications flow again.
    this.#client.on("ready", () => {
      this.#deadline.reset();
      if (this.#mainWatch.up() && !this.#subWatch.isDown && !this.#barrier.behind)
        this.#listeners.emit({ kind: "connection", state: "up" });
    });
    this.#client.on("error", (err: unknown) => {
      if (this.#mainWatch.down(err)) this.#listeners.emit({ kind: "connection", state: "down" });
    });
    this.#client.on("close", () => {
      if (!this.#closed && this.#mainWatch.down("connection closed"))
        this.#listeners.emit({ kind: "connection", state: "down" });
    });
    // The subscriber is back only once Redis confirmed its SUBSCRIBE (#subscribeEvents): a
    // connection that is ready but not yet subscribed hears nothing, and a change published
    // meanwhile would be missed by every cache trusted again on "up" (adversarial review adv19:
    // ioredis emits "ready" before it sends the SUBSCRIBE, and "up" went out first — the MUC
    // re-read its occupants and the guard cached verdicts while notifications were still unheard).
    this.#sub.on("ready", () => {
      this.#subscribed = false;
      this.#barrier.stop();
      this.#subscribeEvents();
    });
    // Notifications stop with the subscriber: its loss is a "down" too (found in review, advcache:
    // with only the pub/sub connection lost, nobody learnt that clearance changes went unheard, and
    // the guard's verdict cache kept reusing verdicts until it came back).
    this.#sub.on("error", (err: unknown) => {
      this.#barrier.stop();
      if (this.#subWatch.down(err)) this.#listeners.emit({ kind: "connection", state: "down" });
    });
    this.#sub.on("close", () => {
      this.#barrier.stop();
      if (!this.#closed && this.#subWatch.down("connection closed"))
        this.#listeners.emit({ kind: "connection", state: "down" });
    });
    this.#sub.on("message", (channel: string, message: string) => this.#onMessage(channel, message));
    // Recovery needs no restart, whatever the client library decides: a connection that ends
    // (ioredis status "end": its retry strategy gave up, or a connector ended it) while the store is
    // open is connected again, after the longest reconnection delay. Lookups meanwhile fail closed.
    for (const [conn, watch] of [
      [this.#client, this.#mainWatch],
      [this.#sub, this.#subWatch],
    ] as const)
      conn.on("end", () => {
        if (this.#closed) return;
        watch.down("connection ended");
        // A connect() after "end" starts afresh: subscribe again explicitly on "ready".
        if (conn === this.#sub) {
          this.#subscribed = false;
          this.#barrier.stop();
        }
        const timer = setTimeout(() => {
          if (!this.#closed && conn.status === "end")
            conn
              .connect()
              .catch((err: unknown) =>
                this.#log.debug({ err: errorText(err) }, "redis reconnection after end failed"),
              );
        }, maxDelay);
        timer.unref();
      });
  }

  #subscribeEvents(): void {
    this.#sub.subscribe(this.keys.events).then(
      () => {
        if (this.#closed || this.#sub.status !== "ready") return; // (lost again meanwhile: its next "ready")
        this.#subscribed = true;
        this.#barrier.start();
        // Notifications may have been missed while disconnected: forget every cached answer.
        if (this.#subWatch.up()) {
          this.#users.clear();
          this.#others.clear();
          // Subscribers' own caches may hold answers a missed notification would have dropped.
          // ("up" only while the main connection is not down either: the same rule as its own "ready".)
          if (!this.#mainWatch.isDown) this.#listeners.emit({ kind: "connection", state: "up" });
        }
      },
      (err: unknown) => {
        // Refused (an ACL without the channel, a server busy loading...) on a connection that stays
        // up: no "up" is told and nothing is cached (fail closed); asked again until it succeeds.
        this.#log.warn({ err: errorText(err) }, "redis subscribe failed; retried");
        const timer = setTimeout(() => {
          if (!this.#closed && !this.#subscribed && this.#sub.status === "ready") this.#subscribeEvents();
        }, this.#retryMs);
        timer.unref();
      },
    );
  }

  // The subscriber's PING gave up (notification-barrier.ts) with both connections up: the
  // subscription may be live, but what it carries is late — a change published now may go unheard
  // for as long as the lag lasts. To subscribers that is a "down" (adversarial review, session 14:
  // with no stanza waiting at a component, nothing learnt of the lag, and the server modules kept
  // delivering on verdicts the guard cached before a lowering): the guard's epoch moves and no
  // verdict is cacheable, the clearance reader keeps nothing, the MUC re-reads its occupants.
  // Lookups still read Redis (the main connection is up); only caches stop being trusted.
  #behind(): void {
    if (this.#closed || !this.#subscribed || this.#mainWatch.isDown || this.#subWatch.isDown) return;
    this.#log.warn({ backend: "redis pub/sub" }, "redis notifications behind (PING unanswered in time)");
    this.#listeners.emit({ kind: "connection", state: "down" });
  }

  // A PING answered after a give-up, the barrier current again: every notification published until
  // a moment ago was heard (and has dropped what it concerned). "up" by the same rule as "ready".
  #caughtUp(): void {
    if (this.#closed || this.#mainWatch.isDown || this.#subWatch.isDown) return;
    this.#log.info({ backend: "redis pub/sub" }, "redis notifications caught up");
    this.#users.clear();
    this.#others.clear();
    this.#listeners.emit({ kind: "connection", state: "up" });
  }

  /** Resolves when both connections are ready and subscribed; rejects with StoreUnavailableError after timeoutMs. */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.#client.status === "ready" && this.#sub.status === "ready" && this.#subscribed)) {
      if (this.#closed) throw new StoreClosedError();
      if (Date.now() > deadline)
        throw new StoreUnavailableError(`redis not reachable within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** What each connection holds unanswered now (InFlightBound), and how many commands it refused. */
  inFlight(): { main: InFlightStats; subscriber: InFlightStats } {
    const stats = (b: InFlightBound): InFlightStats => ({
      bytes: b.heldBytes,
      commands: b.heldCommands,
      refused: b.refused,
      maxBytes: b.maxBytes,
    });
    return { main: stats(this.#inFlight), subscriber: stats(this.#subInFlight) };
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  // The cache is trusted as the first answer only while the notification channel is live and
  // heard up to a moment ago (notification-barrier.ts: not after a pause, before the PING answers).
  get #cacheCoherent(): boolean {
    return this.#sub.status === "ready" && this.#subscribed && this.#barrier.current;
  }

  /**
   * Undefined when every notification published until a moment ago has been heard; else a promise
   * (never rejecting) that settles once they have, or the subscriber gave no answer in time.
   * Components hold incoming stanzas on it (@cordon/component incoming-hold.ts).
   */
  notificationsHeard(): Promise<void> | undefined {
    return this.#closed ? undefined : this.#barrier.heard();
  }

  #onMessage(channel: string, message: string): void {
    if (channel !== this.keys.events) return;
    const event = decodeEvent(message);
    if (event === undefined) {
      this.#log.warn("ignoring a malformed store notification");
      return;
    }
    this.#invalidate(event);
    this.#listeners.emit(event);
  }

  #invalidate(e: StoreEvent): void {
    if (e.kind === "user-clearance") this.#users.delete(e.jid);
    else if (e.kind === "service-clearance") this.#others.delete(`s:${e.domain}`);
    else if (e.kind === "peer-clearance")
      this.#others.delete(`p:${this.keys.peerField(e.domain, e.direction)}`);
  }

  async #write<T>(what: string, op: () => Promise<T>, changes?: StoreEvent): Promise<T> {
    this.#open();
    // Appends called before this command go first, as when each was sent at once: on one connection
    // Redis runs commands in the order written, so a deleteRoom or getRoomHistory after an append in
    // the same turn still follows it (a batch left waiting would recreate a deleted room's history).
    this.#history.flush();
    return this.#run(what, op, changes);
  }

  async #run<T>(what: string, op: () => Promise<T>, changes?: StoreEvent): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof CorruptRecordError || err instanceof RoomNotStoredError) throw err;
      throw new StoreUnavailableError(`redis ${what} failed: ${errorText(err)}`, { cause: err });
    } finally {
      // Our own reads must see our own write at once, before the notification comes back — and so
      // must our subscribers (the components of this process: their caches, occupants, verdicts),
      // before the write returns. The notification through Redis reaches them again (harmless: it
      // drops what is already dropped). Was: a stanza decided between the write's return and its
      // notification's arrival — a moment, unless Redis or this process is starved — read the old
      // clearance from a subscriber's cache (CI under load: relay-store-outage, a lowered sender
      // relayed). Told on a failed write too: it may have been applied (fail closed).
      if (changes !== undefined) {
        this.#invalidate(changes);
        this.#listeners.emit(changes);
      }
    }
  }

  // A clearance write (a script whose ARGV[1] is its deadline): on the main connection when no
  // replica need confirm it, else on the durable connection followed by WAIT (durable-write.ts).
  // Confirmed by fewer replicas than required: NotDurableError, after the write was told to the
  // subscribers (#run: it is in force on the primary) and logged as an error naming the change.
  async #clearanceWrite(
    what: string,
    event: StoreEvent,
    script: string,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    this.#open();
    let required = 0;
    let short: { acked: number; waitError?: string } | undefined;
    const result = await this.#write(
      what,
      async () => {
        required = await this.#durable.required();
        const send = async (c: Redis) =>
          c.eval(script, keys.length, ...keys, await this.#deadline.deadline(), ...args);
        if (required === 0) return send(this.#client);
        const done = await this.#durable.write(required, send);
        if (done.acked < required)
          short = {
            acked: done.acked,
            ...(done.waitError !== undefined ? { waitError: done.waitError } : {}),
          };
        return done.result;
      },
      event,
    );
    if (short !== undefined) {
      this.#log.error(
        { change: what, event, acked: short.acked, required, waitError: short.waitError },
        "clearance change NOT durable: applied on the primary, confirmed by fewer replicas than required; a failover may undo it",
      );
      throw new NotDurableError(what, short.acked, required, short.waitError);
    }
    return result;
  }

  // A cached-or-fetched clearance answer that never throws for backend failures.
  async #lookup<V>(
    cache: TtlCache<V>,
    key: string,
    fetch: () => Promise<V>,
    pick: (v: V) => RawClearance | null | undefined,
  ): Promise<ClearanceLookup> {
    this.#open();
    const answer = (v: V, source: "store" | "cache"): ClearanceLookup => {
      const c = pick(v);
      return c ? { status: "known", clearance: { ...c }, source } : { status: "none" };
    };
    const cached = cache.get(key);
    if (cached !== undefined && this.#cacheCoherent) return answer(cached.value, "cache");
    const gen = cache.generation;
    try {
      const v = await fetch();
      cache.set(key, v, gen);
      return answer(v, "store");
    } catch (err) {
      if (err instanceof CorruptRecordError) {
        this.#log.error({ err: err.message }, "corrupt clearance record");
        return { status: "unknown", reason: err.message };
      }
      // Fail closed: a cached answer within its TTL now — when the read failed, which may be a
      // command timeout after it began (one taken before the read outlived its TTL by that much:
      // occupants re-read at a store "down" were known again after the test's TTL) — else "unknown".
      // Never while notifications are known to be behind (#behind: the cache is what a late
      // notification would correct; adversarial review adv14b: a lowered user was read at the old
      // clearance from here while Redis did not answer and its notification was held) — nor while
      // the subscriber runs but is not current: a read that went to Redis because it was not (after
      // a quiet spell or a stall, or "heard up to" older than the lag) and failed before the PING
      // gave up — sent before that PING, it times out first — is in the same case (adversarial
      // review adv15r: the path to Redis congested, a clearance lowered just before the read was
      // answered at its old value from here ~1 s later). A subscriber known lost (the barrier
      // stopped: the store said "down") is an outage: its rule above.
      const still = this.#barrier.running && !this.#barrier.current ? undefined : cache.get(key);
      if (still !== undefined) return answer(still.value, "cache");
      return { status: "unknown", reason: `redis unavailable: ${errorText(err)}` };
    }
  }

  async getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup> {
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    return this.#lookup(
      this.#users,
      j,
      async () => {
        const key = this.keys.user(j);
        const h = await this.#client.hgetall(key);
        const out: UserMap = {};
        for (const [field, v] of Object.entries(h)) out[field] = parseRaw(v, `${key}#${field}`);
        return out;
      },
      (m) => (p !== undefined ? m[p] : undefined) ?? m[DEFAULT_POLICY_FIELD],
    );
  }

  async setUserClearance(jid: string, clearance: RawClearance, policy?: string): Promise<void> {
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    const c = checkRaw(clearance, "clearance");
    const event: StoreEvent =
      p === undefined ? { kind: "user-clearance", jid: j } : { kind: "user-clearance", jid: j, policy: p };
    await this.#clearanceWrite(
      "set user clearance",
      event,
      SET_USER_BY,
      [this.keys.user(j), this.keys.users],
      [p ?? DEFAULT_POLICY_FIELD, JSON.stringify(c), j, this.keys.events, encodeEvent(event)],
    );
  }

  async deleteUserClearance(jid: string, policy?: string): Promise<boolean> {
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    const event: StoreEvent =
      p === undefined ? { kind: "user-clearance", jid: j } : { kind: "user-clearance", jid: j, policy: p };
    const n = await this.#clearanceWrite(
      "delete user clearance",
      event,
      DEL_USER_BY,
      [this.keys.user(j), this.keys.users],
      [p ?? DEFAULT_POLICY_FIELD, j, this.keys.events, encodeEvent(event)],
    );
    return Number(n) > 0;
  }

  async #scanSet(key: string): Promise<string[]> {
    const out = new Set<string>();
    let cursor = "0";
    do {
      const [next, batch] = await this.#client.sscan(key, cursor, "COUNT", 500);
      for (const m of batch) out.add(m);
      cursor = next;
    } while (cursor !== "0");
    return [...out].sort();
  }

  async #scanHash(key: string): Promise<Array<[string, string]>> {
    const out = new Map<string, string>();
    let cursor = "0";
    do {
      const [next, flat] = await this.#client.hscan(key, cursor, "COUNT", 500);
      for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, flat[i + 1] as string);
      cursor = next;
    } while (cursor !== "0");
    return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async listUserClearances(): Promise<UserClearanceEntry[]> {
    return this.#write("list user clearances", async () => {
      const jids = await this.#scanSet(this.keys.users);
      const pipe = this.#client.pipeline();
      for (const j of jids) pipe.hgetall(this.keys.user(j));
      const results = (await pipe.exec()) ?? [];
      const out: UserClearanceEntry[] = [];
      jids.forEach((jid, i) => {
        const [err, h] = results[i] ?? [null, {}];
        if (err) throw err;
        const fields = Object.entries(h as Record<string, string>).sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        );
        for (const [field, v] of fields) {
          const clearance = parseRaw(v, `${this.keys.user(jid)}#${field}`);
          out.push(field === DEFAULT_POLICY_FIELD ? { jid, clearance } : { jid, policy: field, clearance });
        }
      });
      return out;
    });
  }

  /**
   * A page by SSCAN of the users set (MATCH for the search text), so a listing never reads the
   * whole set at once: the cursor is Redis's own. SSCAN returns whole batches, so a page may hold a
   * few more JIDs than `limit` (a small set comes in one batch of at most 128), and pages are each
   * sorted but not in one global order (Redis SCAN guarantees: every member present for the whole
   * scan is returned at least once).
   */
  async listUserClearancesPage(q?: ListPageQuery): Promise<UserClearancePage> {
    const { query, limit, cursor } = checkPageQuery(q);
    let scan = "0";
    if (cursor !== undefined) {
      if (!/^r:[0-9]{1,20}$/u.test(cursor)) throw new InvalidValueError("not a cursor of this store");
      scan = cursor.slice(2);
    }
    // Glob metacharacters of the search text are escaped (Redis glob-style MATCH).
    const match = `*${query.replace(/[*?[\]\\]/gu, (c) => `\\${c}`)}*`;
    return this.#write("list user clearances", async () => {
      const found = new Set<string>();
      let calls = 0;
      do {
        const [next, batch] = await this.#client.sscan(this.keys.users, scan, "MATCH", match, "COUNT", limit);
        for (const m of batch) found.add(m);
        scan = next;
        calls++;
        // Bounded work per page: a rare match in a large set is continued by the next page.
      } while (scan !== "0" && found.size < limit && calls < 100);
      const jids = [...found].sort();
      const pipe = this.#client.pipeline();
      for (const j of jids) pipe.hgetall(this.keys.user(j));
      const results = (await pipe.exec()) ?? [];
      const entries: UserClearanceEntry[] = [];
      jids.forEach((jid, i) => {
        const [err, h] = results[i] ?? [null, {}];
        if (err) throw err;
        const fields = Object.entries(h as Record<string, string>).sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        );
        for (const [field, v] of fields) {
          const clearance = parseRaw(v, `${this.keys.user(jid)}#${field}`);
          entries.push(
            field === DEFAULT_POLICY_FIELD ? { jid, clearance } : { jid, policy: field, clearance },
          );
        }
      });
      return scan === "0" ? { entries } : { entries, next: `r:${scan}` };
    });
  }

  async getServiceClearance(domain: string): Promise<ClearanceLookup> {
    const d = normaliseDomain(domain);
    return this.#lookup(
      this.#others,
      `s:${d}`,
      async () => {
        const v = await this.#client.hget(this.keys.services, d);
        return v === null ? null : parseRaw(v, `${this.keys.services}#${d}`);
      },
      (v) => v,
    );
  }

  async setServiceClearance(domain: string, clearance: RawClearance): Promise<void> {
    const d = normaliseDomain(domain);
    const c = checkRaw(clearance, "clearance");
    const event: StoreEvent = { kind: "service-clearance", domain: d };
    await this.#clearanceWrite(
      "set service clearance",
      event,
      HSET_PUBLISH_BY,
      [this.keys.services],
      [d, JSON.stringify(c), this.keys.events, encodeEvent(event)],
    );
  }

  async deleteServiceClearance(domain: string): Promise<boolean> {
    const d = normaliseDomain(domain);
    const event: StoreEvent = { kind: "service-clearance", domain: d };
    const n = await this.#clearanceWrite(
      "delete service clearance",
      event,
      HDEL_PUBLISH_BY,
      [this.keys.services],
      [d, this.keys.events, encodeEvent(event)],
    );
    return Number(n) > 0;
  }

  async listServiceClearances(): Promise<ServiceClearanceEntry[]> {
    return this.#write("list service clearances", async () =>
      (await this.#scanHash(this.keys.services)).map(([domain, v]) => ({
        domain,
        clearance: parseRaw(v, `${this.keys.services}#${domain}`),
      })),
    );
  }

  async getPeerClearance(domain: string, direction: PeerDirection): Promise<ClearanceLookup> {
    const field = this.keys.peerField(normaliseDomain(domain), checkDirection(direction));
    return this.#lookup(
      this.#others,
      `p:${field}`,
      async () => {
        const v = await this.#client.hget(this.keys.peers, field);
        return v === null ? null : parseRaw(v, `${this.keys.peers}#${field}`);
      },
      (v) => v,
    );
  }

  async setPeerClearance(domain: string, direction: PeerDirection, clearance: RawClearance): Promise<void> {
    const d = normaliseDomain(domain);
    const dir = checkDirection(direction);
    const c = checkRaw(clearance, "clearance");
    const event: StoreEvent = { kind: "peer-clearance", domain: d, direction: dir };
    await this.#clearanceWrite(
      "set peer clearance",
      event,
      HSET_PUBLISH_BY,
      [this.keys.peers],
      [this.keys.peerField(d, dir), JSON.stringify(c), this.keys.events, encodeEvent(event)],
    );
  }

  async deletePeerClearance(domain: string, direction: PeerDirection): Promise<boolean> {
    const d = normaliseDomain(domain);
    const dir = checkDirection(direction);
    const event: StoreEvent = { kind: "peer-clearance", domain: d, direction: dir };
    const n = await this.#clearanceWrite(
      "delete peer clearance",
      event,
      HDEL_PUBLISH_BY,
      [this.keys.peers],
      [this.keys.peerField(d, dir), this.keys.events, encodeEvent(event)],
    );
    return Number(n) > 0;
  }

  async listPeerClearances(): Promise<PeerClearanceEntry[]> {
    return this.#write("list peer clearances", async () => {
      const out: PeerClearanceEntry[] = [];
      for (const [field, v] of await this.#scanHash(this.keys.peers)) {
        const colon = field.indexOf(":");
        const direction = field.slice(0, colon) as PeerDirection;
        out.push({
          domain: field.slice(colon + 1),
          direction,
          clearance: parseRaw(v, `${this.keys.peers}#${field}`),
        });
      }
      return out.sort((a, b) =>
        a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : a.direction < b.direction ? -1 : 1,
      );
    });
  }

  async getRoom(jid: string): Promise<RoomRecord | undefined> {
    const j = normaliseBareJid(jid);
    return this.#write("get room", async () => {
      const res = await this.#client
        .multi()
        .hget(this.keys.room(j), "record")
        .hgetall(this.keys.roomAffiliations(j))
        .exec();
      if (res === null) throw new StoreUnavailableError("redis transaction aborted");
      const [[e1, rec], [e2, aff]] = res as [
        [Error | null, string | null],
        [Error | null, Record<string, string>],
      ];
      if (e1) throw e1;
      if (e2) throw e2;
      if (rec === null) return undefined;
      let body: Omit<RoomRecord, "jid" | "affiliations">;
      try {
        body = JSON.parse(rec) as Omit<RoomRecord, "jid" | "affiliations">;
      } catch (err) {
        throw new CorruptRecordError(this.keys.room(j), { cause: err });
      }
      const affiliations: Record<string, Affiliation> = {};
      for (const [who, a] of Object.entries(aff)) {
        if (AFFILIATIONS.includes(a as Affiliation)) affiliations[who] = a as Affiliation;
      }
      const room: RoomRecord = {
        jid: j,
        config: body.config ?? {},
        affiliations,
        persistent: body.persistent === true,
      };
      if (body.label !== undefined) room.label = body.label;
      if (body.clearance !== undefined) room.clearance = body.clearance;
      if (body.defaultLabel !== undefined) room.defaultLabel = body.defaultLabel;
      return room;
    });
  }

  async putRoom(room: RoomRecord): Promise<void> {
    const r = normaliseRoom(room);
    const body: Omit<RoomRecord, "jid" | "affiliations"> = { config: r.config, persistent: r.persistent };
    if (r.label) body.label = r.label;
    if (r.clearance) body.clearance = r.clearance;
    if (r.defaultLabel) body.defaultLabel = r.defaultLabel;
    await this.#write("put room", async () =>
      this.#client.eval(
        PUT_ROOM_BY,
        3,
        this.keys.room(r.jid),
        this.keys.roomAffiliations(r.jid),
        this.keys.rooms,
        await this.#deadline.deadline(),
        JSON.stringify(body),
        r.jid,
        this.keys.events,
        encodeEvent({ kind: "room", jid: r.jid }),
        ...Object.entries(r.affiliations).flat(),
      ),
    );
  }

  async deleteRoom(jid: string): Promise<boolean> {
    const j = normaliseBareJid(jid);
    const n = await this.#write("delete room", async () =>
      this.#client.eval(
        DEL_ROOM_BY,
        4,
        this.keys.room(j),
        this.keys.roomAffiliations(j),
        this.keys.roomHistory(j),
        this.keys.rooms,
        await this.#deadline.deadline(),
        j,
        this.keys.events,
        encodeEvent({ kind: "room", jid: j }),
      ),
    );
    return Number(n) > 0;
  }

  async listRooms(domain?: string): Promise<string[]> {
    const d = domain === undefined ? undefined : normaliseDomain(domain);
    return this.#write("list rooms", async () =>
      (await this.#scanSet(this.keys.rooms)).filter((j) => d === undefined || domainOf(j) === d),
    );
  }

  async setAffiliation(room: string, jid: string, affiliation: Affiliation | "none"): Promise<boolean> {
    const r = normaliseBareJid(room);
    const who = normaliseBareJid(jid);
    const a = checkAffiliation(affiliation);
    const n = await this.#write("set affiliation", async () =>
      this.#client.eval(
        SET_AFF_BY,
        2,
        this.keys.room(r),
        this.keys.roomAffiliations(r),
        await this.#deadline.deadline(),
        who,
        a,
        this.keys.events,
        encodeEvent({ kind: "room", jid: r }),
      ),
    );
    return Number(n) > 0;
  }

  async appendRoomHistory(room: string, entry: string, cap?: number): Promise<void> {
    const r = normaliseBareJid(room);
    const c = checkCap(cap, this.#historyCap, "cap");
    if (typeof entry !== "string") throw new InvalidValueError("history entry must be a string");
    this.#open();
    await this.#run("append room history", async () => {
      try {
        await this.#history.append(this.keys.roomHistory(r), entry, c);
      } catch (err) {
        if (err instanceof Error && err.message === ROOM_NOT_STORED) throw new RoomNotStoredError(r);
        throw err;
      }
    });
  }

  // One EVAL for a batch of history groups (APPEND_BATCH): per group, null or Redis's refusal.
  async #sendHistory(groups: readonly HistoryGroup[]): Promise<Array<string | null>> {
    // Each history key with its room's record key (key-schema.ts: the record is the history key
    // without ":history"; a domain holds no ":", so the suffix is unambiguous).
    const args: Array<string | number> = groups.flatMap((g) => [g.key, g.key.slice(0, -":history".length)]);
    for (const g of groups) args.push(g.entries.length, g.cap);
    for (const g of groups) args.push(...g.entries);
    let out: Array<string | undefined>;
    try {
      out = (await this.#client.eval(APPEND_BATCH, 2 * groups.length, ...args)) as Array<string | undefined>;
    } catch (err) {
      // Every caller of the batch gets this error (as the cause of its StoreUnavailableError): an
      // ioredis reply error carries the command's arguments — every room's entries — so only its
      // text is passed on (adversarial review adv49: room A's caller held room B's messages).
      throw new Error(errorText(err));
    }
    return groups.map((_, i) => (out[i] === "" ? null : String(out[i] ?? "no answer")));
  }

  async getRoomHistory(room: string, limit?: number): Promise<string[]> {
    const r = normaliseBareJid(room);
    const n = limit === undefined ? undefined : checkCap(limit, 1, "limit");
    return this.#write("get room history", () =>
      this.#client.lrange(this.keys.roomHistory(r), n === undefined ? 0 : -n, -1),
    );
  }

  async getCatalog(scope: CatalogScope): Promise<string | undefined> {
    const s = normaliseScope(scope);
    const v = await this.#write("get catalog", () =>
      this.#client.hget(this.keys.catalogs, catalogKeyPart(s)),
    );
    return v ?? undefined;
  }

  async setCatalog(scope: CatalogScope, value: string): Promise<void> {
    const s = normaliseScope(scope);
    if (typeof value !== "string") throw new InvalidValueError("catalog must be a string");
    await this.#write("set catalog", async () =>
      this.#client.eval(
        HSET_PUBLISH_BY,
        1,
        this.keys.catalogs,
        await this.#deadline.deadline(),
        catalogKeyPart(s),
        value,
        this.keys.events,
        encodeEvent({ kind: "catalog", scope: s }),
      ),
    );
  }

  async deleteCatalog(scope: CatalogScope): Promise<boolean> {
    const s = normaliseScope(scope);
    const n = await this.#write("delete catalog", async () =>
      this.#client.eval(
        HDEL_PUBLISH_BY,
        1,
        this.keys.catalogs,
        await this.#deadline.deadline(),
        catalogKeyPart(s),
        this.keys.events,
        encodeEvent({ kind: "catalog", scope: s }),
      ),
    );
    return Number(n) > 0;
  }

  subscribe(listener: StoreListener): Unsubscribe {
    this.#open();
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#barrier.stop();
    // Appends accepted before close are sent, as they were when each went out at once.
    this.#history.flush();
    this.#client.disconnect();
    this.#sub.disconnect();
    this.#durable.close();
  }
}
