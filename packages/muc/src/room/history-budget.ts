// The one place room history is counted in bytes (XEP-0045 §7.2.15 history, and the XEP-0313
// archive, which reads the same entries): every entry a room keeps is pushed here.
//
// Issue 15 item 7: the limits are kept per label (the label is who may see an entry), so that what
// a joiner is replayed is never shaped by traffic it may not see — SECRET traffic must not push
// UNCLASSIFIED entries out (a covert channel, and a denial of history). Within a room each label
// keeps at most `historyLength` entries and `roomBytes` bytes, its own oldest going first; all
// rooms together are bounded by `totalBytes`: past it the oldest entry of the same label (any
// room) goes first, and only when that label holds nothing else, the oldest of any (the one place
// where traffic of one label can still shape another's history: it takes `totalBytes` of it, 64 MiB
// by default). An entry larger than `roomBytes` is not kept.
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
  /** Bytes one room's history may hold of one label. Default 4 MiB. */
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

/**
 * Who may read an entry, as a key: entries with the same key are seen by exactly the same readers,
 * so the limits of one key never depend on traffic of another.
 */
export function visibleTo(e: HistoryEntry): string {
  // A message referring to others is read only by those cleared for their labels too (refs).
  return e.refs && e.refs.length > 0 ? [e.label, ...[...e.refs].sort()].join("\n") : e.label;
}

export class HistoryBudget {
  readonly roomBytes: number;
  readonly totalBytes: number;
  /** Every entry kept, oldest first across rooms (Map order), with its holder and size. */
  readonly #held = new Map<HistoryEntry, { holder: HistoryHolder; bytes: number }>();
  #bytes = 0;
  /** Count and bytes each room keeps of each label. */
  readonly #shares = new WeakMap<HistoryHolder, Map<string, { count: number; bytes: number }>>();
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
    if (cap === 0) {
      this.release(holder);
      return false;
    }
    if (bytes > this.roomBytes || bytes > this.totalBytes) {
      this.refused++;
      return false;
    }
    holder.history.push(entry);
    holder.historyBytes += bytes;
    this.#held.set(entry, { holder, bytes });
    this.#bytes += bytes;
    const key = visibleTo(entry);
    const share = this.#share(holder, key);
    share.count++;
    share.bytes += bytes;
    // The label's own oldest entries in this room, to its count and bytes.
    while (share.count > cap || share.bytes > this.roomBytes) {
      const i = holder.history.findIndex((e) => visibleTo(e) === key);
      if (i < 0) break;
      this.#forget(holder.history[i]!);
      holder.history.splice(i, 1);
    }
    // Past the total: the same label's oldest (any room) first, then the oldest of any.
    while (this.#bytes > this.totalBytes) {
      let victim: [HistoryEntry, { holder: HistoryHolder; bytes: number }] | undefined;
      for (const held of this.#held) {
        if (held[0] !== entry && visibleTo(held[0]) === key) {
          victim = held;
          break;
        }
      }
      victim ??= this.#held.entries().next().value;
      if (!victim) break;
      const [e, { holder: h }] = victim;
      const i = h.history.indexOf(e);
      if (i >= 0) h.history.splice(i, 1);
      this.#forget(e);
      this.evicted++;
    }
    return holder.history.includes(entry);
  }

  /** Drops everything `holder` keeps (a room closed or destroyed). */
  release(holder: HistoryHolder): void {
    for (const e of holder.history) this.#forget(e);
    holder.history = [];
    holder.historyBytes = 0;
    this.#shares.delete(holder);
  }

  /** Labels `holder` keeps entries of (each limited on its own). */
  labels(holder: HistoryHolder): number {
    return this.#shares.get(holder)?.size ?? 0;
  }

  #share(holder: HistoryHolder, label: string): { count: number; bytes: number } {
    let shares = this.#shares.get(holder);
    if (!shares) this.#shares.set(holder, (shares = new Map<string, { count: number; bytes: number }>()));
    let share = shares.get(label);
    if (!share) shares.set(label, (share = { count: 0, bytes: 0 }));
    return share;
  }

  #forget(e: HistoryEntry): void {
    const held = this.#held.get(e);
    if (!held) return;
    this.#held.delete(e);
    this.#bytes -= held.bytes;
    held.holder.historyBytes -= held.bytes;
    const shares = this.#shares.get(held.holder);
    const key = visibleTo(e);
    const share = shares?.get(key);
    if (shares && share) {
      share.count--;
      share.bytes -= held.bytes;
      if (share.count <= 0) shares.delete(key);
    }
  }
}
