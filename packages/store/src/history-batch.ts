// Coalesces the room-history appends that wait at the same moment into one Redis call (issue 19 goal 5,
// packages/store/README.md "One primary or Redis Cluster"). An append one per round trip costs Redis a
// read and a write system call each; several rooms' entries in one script cost one.
//
// Order: entries leave in the order the appends were called, so a room's history keeps the order its
// messages were accepted in (RFC 6120 §10.1 in-order processing; XEP-0045 §7.2.15 history is sent in
// that order). Consecutive entries of one room with one cap form a group: RPUSH of the group then one
// LTRIM leaves exactly what one RPUSH+LTRIM per entry leaves (both keep the newest `cap` of the same
// sequence). A different cap starts a new group, so a cap change mid-batch trims as before.
//
// Latency: a batch is sent at the end of the current event-loop turn (setImmediate), or at once when
// the next entry would take it past its bound in entries or bytes. Nothing waits longer than one turn.

/** One group of a batch: entries for one list, trimmed to `cap` after they are pushed. */
export interface HistoryGroup {
  readonly key: string;
  readonly cap: number;
  readonly entries: string[];
}

/**
 * Sends one batch; answers, per group and in order, null when it was stored, or the error text when
 * Redis refused that group (the others are stored). Throws when the call failed as a whole.
 */
export type SendHistoryBatch = (groups: readonly HistoryGroup[]) => Promise<ReadonlyArray<string | null>>;

export interface HistoryBatchLimits {
  /** Entries per batch (Lua's unpack needs them on its stack: keep well under 8,000). */
  readonly maxEntries: number;
  /** UTF-8 bytes of entries per batch; one entry larger than this goes alone. */
  readonly maxBytes: number;
}

export const DEFAULT_HISTORY_BATCH_LIMITS: HistoryBatchLimits = { maxEntries: 256, maxBytes: 1024 * 1024 };

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface PendingGroup extends HistoryGroup {
  readonly waiters: Waiter[];
}

export class HistoryBatcher {
  readonly #send: SendHistoryBatch;
  readonly #limits: HistoryBatchLimits;
  #groups: PendingGroup[] = [];
  /** The open group of each key in the waiting batch (the last one: only it may grow). */
  #last = new Map<string, PendingGroup>();
  #entries = 0;
  #bytes = 0;
  #scheduled: NodeJS.Immediate | undefined;

  constructor(send: SendHistoryBatch, limits: HistoryBatchLimits = DEFAULT_HISTORY_BATCH_LIMITS) {
    this.#send = send;
    this.#limits = limits;
  }

  /** Resolves once the entry is stored; rejects with the batch's error when it was not. */
  append(key: string, entry: string, cap: number): Promise<void> {
    const bytes = Buffer.byteLength(entry, "utf8");
    if (
      this.#entries > 0 &&
      (this.#entries + 1 > this.#limits.maxEntries || this.#bytes + bytes > this.#limits.maxBytes)
    )
      this.flush();
    return new Promise<void>((resolve, reject) => {
      let g = this.#last.get(key);
      if (g === undefined || g.cap !== cap) {
        g = { key, cap, entries: [], waiters: [] };
        this.#groups.push(g);
        this.#last.set(key, g);
      }
      g.entries.push(entry);
      g.waiters.push({ resolve, reject });
      this.#entries++;
      this.#bytes += bytes;
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is waiting now (also at the end of the turn, by itself). */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const groups = this.#groups;
    if (groups.length === 0) return;
    this.#groups = [];
    this.#last = new Map();
    this.#entries = 0;
    this.#bytes = 0;
    void this.#deliver(groups);
  }

  async #deliver(groups: PendingGroup[]): Promise<void> {
    let answers: ReadonlyArray<string | null>;
    try {
      answers = await this.#send(groups);
    } catch (err) {
      // A failed call rejects every caller of the batch: none of them knows its entry was stored.
      for (const g of groups) for (const w of g.waiters) w.reject(err);
      return;
    }
    groups.forEach((g, i) => {
      const refused = answers[i];
      // A group refused by Redis (e.g. WRONGTYPE): only its callers fail, each with Redis's text as the
      // cause of its StoreUnavailableError (RedisStore#run).
      const err = refused === null ? undefined : new Error(refused ?? "no answer for this group");
      for (const w of g.waiters)
        if (err === undefined) w.resolve();
        else w.reject(err);
    });
  }
}
