// The one place room history is counted in bytes (XEP-0045 §7.2.15 history, and the XEP-0313
// archive, which reads the same entries): every entry a room keeps is pushed here, which bounds
// each room by its `historyLength` (count) and `roomBytes`, and all rooms together by `totalBytes`
// (past it, the oldest entry of any room goes first). An entry larger than `roomBytes` is not kept.
// Sizes are estimates as the label caches count them (@cordon/policy ByteLru): two bytes a
// character of every string an entry holds, plus a fixed overhead.
import type { HistoryEntry } from "./history.js";

/** What holds a history: a room (its entries oldest first, their bytes, its count limit). */
export interface HistoryHolder {
  history: HistoryEntry[];
  historyBytes: number;
  readonly config: { historyLength: number };
}

export interface HistoryLimits {
  /** Bytes one room's history may hold. Default 4 MiB. */
  roomBytes?: number;
  /** Bytes the history of every room together may hold. Default 64 MiB. */
  totalBytes?: number;
}

export const DEFAULT_HISTORY_LIMITS = { roomBytes: 4 * 1024 * 1024, totalBytes: 64 * 1024 * 1024 } as const;

/** Object, fields and array slot of one entry, roughly (V8). */
const ENTRY_OVERHEAD = 256;

export function historyEntryBytes(e: HistoryEntry): number {
  const text =
    e.sid.length +
    (e.id?.length ?? 0) +
    e.nick.length +
    e.occupantId.length +
    e.from.length +
    e.label.length +
    (e.body?.length ?? 0) +
    e.extra.length +
    (e.rich?.length ?? 0) +
    (e.refs?.reduce((n, r) => n + r.length, 0) ?? 0);
  return ENTRY_OVERHEAD + 2 * text;
}

export class HistoryBudget {
  readonly roomBytes: number;
  readonly totalBytes: number;
  /** Every entry kept, oldest first across rooms (Map order), with its holder and size. */
  readonly #held = new Map<HistoryEntry, { holder: HistoryHolder; bytes: number }>();
  #bytes = 0;
  /** Entries not kept (larger than a room's budget) and entries dropped for the total. */
  refused = 0;
  evicted = 0;

  constructor(limits: HistoryLimits = {}) {
    this.roomBytes = limits.roomBytes ?? DEFAULT_HISTORY_LIMITS.roomBytes;
    this.totalBytes = limits.totalBytes ?? DEFAULT_HISTORY_LIMITS.totalBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get entries(): number {
    return this.#held.size;
  }

  /** Appends `entry` to `holder`'s history within every bound; false when it is too large to keep. */
  push(holder: HistoryHolder, entry: HistoryEntry): boolean {
    const bytes = historyEntryBytes(entry);
    const cap = Math.max(0, holder.config.historyLength);
    if (bytes > this.roomBytes || bytes > this.totalBytes || cap === 0) {
      if (cap > 0) this.refused++;
      this.#trim(holder, cap);
      return false;
    }
    holder.history.push(entry);
    holder.historyBytes += bytes;
    this.#held.set(entry, { holder, bytes });
    this.#bytes += bytes;
    this.#trim(holder, cap);
    while (this.#bytes > this.totalBytes) {
      const oldest = this.#held.entries().next().value;
      if (!oldest) break;
      const [e, { holder: h }] = oldest;
      const i = h.history.indexOf(e);
      if (i >= 0) h.history.splice(i, 1);
      this.#forget(e);
      this.evicted++;
    }
    return true;
  }

  /** Drops everything `holder` keeps (a room closed or destroyed). */
  release(holder: HistoryHolder): void {
    for (const e of holder.history) this.#forget(e);
    holder.history = [];
    holder.historyBytes = 0;
  }

  /** The oldest entries of `holder` go until it is within its count (`cap`) and `roomBytes`. */
  #trim(holder: HistoryHolder, cap: number): void {
    while (holder.history.length > cap || holder.historyBytes > this.roomBytes) {
      const e = holder.history.shift();
      if (!e) break;
      this.#forget(e);
    }
  }

  #forget(e: HistoryEntry): void {
    const held = this.#held.get(e);
    if (!held) return;
    this.#held.delete(e);
    this.#bytes -= held.bytes;
    held.holder.historyBytes -= held.bytes;
  }
}
