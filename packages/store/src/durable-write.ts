// Clearance writes confirmed on replicas before they are reported done (issue 19 goal 5: Sentinel
// failover, "nothing labelled delivered unchecked").
//
// Redis replication is asynchronous (Redis documentation, "Replication"; Sentinel, "Consistency under
// partitions"): a write the primary acknowledged but had not yet sent to a replica is lost when that
// replica is promoted. For a clearance lowered or revoked that is a security change silently undone:
// the admin was told it is in force, and after the failover the user receives again what it forbade
// (packages/store/test/redis-sentinel.test.ts, "a lowering the replica never got": on the old store
// the write returned and the promoted replica answered the old clearance, 3 runs of 3).
//
// So every clearance write (user, service, peer; set and delete — the store does not parse
// clearances and cannot tell a lowering from a raise) is followed by `WAIT numreplicas timeout` on
// the same connection (WAIT counts the writes of its own connection: Redis documentation, "WAIT").
// Fewer acknowledgements than required within the timeout — or no answer to WAIT at all — and the
// write is reported NOT durable (NotDurableError, CORDON_STORE_NOT_DURABLE; logged as an error with
// what it changed): it is in force on the primary, its notification went out, but a failover now may
// undo it. Nothing is rolled back (a rollback is a write that could be lost the same way).
//
// How many: `durableReplicas` if configured; else, through Sentinel, 1 when the sentinels know a
// replica of the master group (Sentinel promotes the replica with the largest replication offset among
// those of equal priority, so one that acknowledged the write wins over one that did not), 0 when they
// know none (nothing to fail over to); without Sentinel 0 (set it when the URL's primary has replicas).
// If no sentinel answers the question, 1 (fail closed).
//
// WAIT blocks its connection until answered, so it runs on a connection of its own, opened at the
// first clearance write: lookups on the main connection never queue behind it.
import { Redis, type RedisOptions } from "ioredis";
import { InvalidValueError, StoreUnavailableError } from "./errors.js";
import { InFlightBound } from "./in-flight-bound.js";

export interface DurabilityOptions {
  /** Replicas that must acknowledge a clearance write (undefined: ask Sentinel, see above). */
  readonly replicas?: number | undefined;
  /** WAIT's timeout (default the smaller of 1000 ms and half the command timeout). */
  readonly timeoutMs?: number | undefined;
}

export function checkDurability(
  o: DurabilityOptions | undefined,
  commandTimeoutMs: number,
): { replicas: number | undefined; timeoutMs: number } {
  const replicas = o?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0 || replicas > 100))
    throw new InvalidValueError("durableWrites.replicas must be an integer from 0 to 100");
  const timeoutMs = o?.timeoutMs ?? Math.max(1, Math.min(1000, Math.floor(commandTimeoutMs / 2)));
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs >= commandTimeoutMs)
    throw new InvalidValueError("durableWrites.timeoutMs must be an integer ≥ 1 and below commandTimeoutMs");
  return { replicas, timeoutMs };
}

/** What a durable write did: the script's answer, and how many replicas confirmed it (of how many). */
export interface DurableResult {
  readonly result: unknown;
  readonly acked: number;
  readonly required: number;
  /** Why WAIT gave no count (its connection failed after the write), if so. */
  readonly waitError?: string;
}

export interface SentinelQuery {
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  readonly name: string;
  readonly options: RedisOptions;
}

/** Replicas the sentinels know for `name` (first sentinel that answers), or undefined. */
export async function sentinelReplicaCount(q: SentinelQuery, timeoutMs: number): Promise<number | undefined> {
  for (const s of q.sentinels) {
    const conn = new Redis({
      host: s.host,
      port: s.port,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...q.options,
    });
    conn.on("error", () => undefined); // the answer (or its absence) is what counts
    try {
      await conn.connect();
      const out = (await conn.call("SENTINEL", "REPLICAS", q.name)) as unknown[];
      if (Array.isArray(out)) return out.length;
    } catch {
      // this sentinel does not answer: ask the next
    } finally {
      conn.disconnect();
    }
  }
  return undefined;
}

export class DurableWriter {
  #conn: { client: Redis; bound: InFlightBound } | undefined;
  #known: { replicas: number; at: number } | undefined;
  #closed = false;

  constructor(
    /** A new connection to the primary, not connected yet (the main client's duplicate). */
    private readonly open: () => Redis,
    private readonly opts: {
      replicas: number | undefined;
      timeoutMs: number;
      commandTimeoutMs: number;
      maxInFlightBytes: number;
      sentinel: SentinelQuery | undefined;
    },
  ) {}

  /** Replicas a clearance write must reach; asked of the sentinels at most every 10 s. */
  async required(): Promise<number> {
    if (this.opts.replicas !== undefined) return this.opts.replicas;
    if (this.opts.sentinel === undefined) return 0;
    const now = performance.now();
    if (this.#known !== undefined && now - this.#known.at < 10_000) return this.#known.replicas;
    const n = await sentinelReplicaCount(this.opts.sentinel, this.opts.timeoutMs);
    const replicas = n === undefined ? 1 : Math.min(1, n);
    if (n !== undefined) this.#known = { replicas, at: now };
    return replicas;
  }

  async #client(): Promise<Redis> {
    if (this.#conn === undefined) {
      const client = this.open();
      client.on("error", () => undefined); // its failures reach the write that uses it
      this.#conn = {
        client,
        bound: new InFlightBound(client, {
          maxBytes: this.opts.maxInFlightBytes,
          timeoutMs: this.opts.commandTimeoutMs,
          what: "redis (durable writes)",
        }),
      };
    }
    const { client } = this.#conn;
    if (client.status === "wait" || client.status === "end") await client.connect();
    const deadline = performance.now() + this.opts.commandTimeoutMs;
    while (client.status !== "ready") {
      if (this.#closed) throw new StoreUnavailableError("the store is closing");
      if (performance.now() > deadline)
        throw new StoreUnavailableError(`redis (durable writes) not ready: ${client.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return client;
  }

  /**
   * Runs `write` on the durable connection, then WAITs for `required` replicas (≥ 1). A write that
   * fails throws as it would have; a write that ran is answered with its acknowledgements.
   */
  async write(required: number, write: (client: Redis) => Promise<unknown>): Promise<DurableResult> {
    const client = await this.#client();
    const result = await write(client);
    try {
      const acked = Number(await client.wait(required, this.opts.timeoutMs));
      return { result, acked, required };
    } catch (err) {
      return { result, acked: 0, required, waitError: err instanceof Error ? err.message : String(err) };
    }
  }

  close(): void {
    this.#closed = true;
    this.#conn?.client.disconnect();
  }
}
