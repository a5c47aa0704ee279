// Stanzas waiting for a decision (a clearance from Redis or LDAP, a client's disco#info) are held
// in memory until it comes: bounded here in count and bytes, per sender and in total. A stanza
// that would go past a limit is not held: its sender gets `resource-constraint` (RFC 6120
// §8.3.3.18, type wait) at once and the stanza is dropped. Senders are keys of a map that only
// holds those with something pending, so the map is bounded by the total count.

export interface PendingLimits {
  /** Stanzas pending in total. Default 2,000. */
  total?: number;
  /** Bytes pending in total (estimate, see elementBytes). Default 32 MiB. */
  totalBytes?: number;
  /** Stanzas one sender may have pending. Default 50. */
  perSender?: number;
  /** Bytes one sender may have pending. Default 2 MiB. */
  perSenderBytes?: number;
}

export const DEFAULT_PENDING = {
  total: 2_000,
  totalBytes: 32 * 1024 * 1024,
  perSender: 50,
  perSenderBytes: 2 * 1024 * 1024,
} as const;

/** Hands back what `acquire` reserved; calling it twice is harmless. */
export type Release = () => void;

export class PendingBudget {
  readonly limits: Required<PendingLimits>;
  readonly #senders = new Map<string, { count: number; bytes: number }>();
  #count = 0;
  #bytes = 0;
  /** Stanzas refused because a limit was reached. */
  refused = 0;

  constructor(limits: PendingLimits = {}) {
    this.limits = { ...DEFAULT_PENDING, ...limits };
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Reserves room for a stanza of `bytes` from `sender`; undefined (counted) when over a limit. */
  acquire(sender: string, bytes: number): Release | undefined {
    const l = this.limits;
    const own = this.#senders.get(sender) ?? { count: 0, bytes: 0 };
    if (
      this.#count + 1 > l.total ||
      this.#bytes + bytes > l.totalBytes ||
      own.count + 1 > l.perSender ||
      own.bytes + bytes > l.perSenderBytes
    ) {
      this.refused++;
      return undefined;
    }
    own.count++;
    own.bytes += bytes;
    this.#senders.set(sender, own);
    this.#count++;
    this.#bytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      own.count--;
      own.bytes -= bytes;
      this.#count--;
      this.#bytes -= bytes;
      if (own.count === 0) this.#senders.delete(sender);
    };
  }
}
