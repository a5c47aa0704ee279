// A small TTL cache bounded in bytes (least recently used first out: @cordon/policy's ByteLru, the
// one byte-bounded LRU of Cordon), with a generation counter, so an answer fetched before an
// invalidation is never stored after it.
//
// Bounded in bytes, not entries: its keys are JIDs and its values clearances and directory
// attributes — read from Redis or LDAP, as large as whoever wrote them made them — so a count of
// entries said nothing of the memory held (10,000 entries of 100 KB clearances: 1 GB). An entry
// costs its key (two bytes a character, a copy of its own: ByteLru), `sizeOf` of its value and a
// fixed overhead; one larger than the whole budget is not kept (the next lookup reads the backend).
//
// Ages are read on a monotonic clock (performance.now), never the wall clock: the Redis store's
// outage grace answers a failed read from here "within the TTL", and a wall clock stepped back (an
// NTP step, a VM restored, `date -s`) made every entry younger by the step — with this process cut
// off from Redis, a clearance lowered elsewhere was answered at its old value for as long as the
// step, not at most the TTL (adversarial review adv15r: 1 h back, the old clearance answered 1.5 s
// after a 1 s TTL; test/redis-clock-jump.test.ts).
import { ByteLru } from "@cordon/policy";
import { InvalidValueError } from "./errors.js";

/** The default byte budget of the Redis store's clearance cache and of the directory's (16 MiB each). */
export const DEFAULT_CACHE_MAX_BYTES = 16 * 1024 * 1024;

/** A cache's byte budget as given (a non-negative safe integer; 0 disables it), or the default. */
export function checkCacheBytes(v: number | undefined, name = "cacheMaxBytes"): number {
  if (v === undefined) return DEFAULT_CACHE_MAX_BYTES;
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidValueError(`${name} must be an integer ≥ 0`);
  return v;
}

interface Slot<V> {
  value: V;
  at: number;
}

/** A slot object ({ value, at }) beside what ByteLru counts for its entry. */
const SLOT_BYTES = 32;

export class TtlCache<V> {
  readonly #lru: ByteLru<Slot<V>>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #generation = 0;

  /** `sizeOf`: an estimate of a value's bytes in memory (strings two bytes a character). */
  constructor(
    ttlMs: number,
    maxBytes: number,
    sizeOf: (value: V) => number,
    now: () => number = () => performance.now(),
  ) {
    this.#ttlMs = ttlMs;
    this.#lru = new ByteLru<Slot<V>>(maxBytes, (slot) => SLOT_BYTES + sizeOf(slot.value));
    this.#now = now;
  }

  get enabled(): boolean {
    return this.#ttlMs > 0 && this.#lru.maxBytes > 0;
  }

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** Bytes held: keys, value estimates and overheads (at most `maxBytes`). */
  get bytes(): number {
    return this.#lru.bytes;
  }

  get maxBytes(): number {
    return this.#lru.maxBytes;
  }

  /** The value if it was stored less than ttl ago (also its age), else undefined. */
  get(key: string): { value: V; ageMs: number } | undefined {
    const s = this.#lru.get(key);
    if (s === undefined) return undefined;
    const age = this.#now() - s.at;
    if (age >= this.#ttlMs) return undefined;
    return { value: s.value, ageMs: age };
  }

  /** Stores a value fetched at generation `gen`; ignored if an invalidation happened since. */
  set(key: string, value: V, gen: number = this.#generation, at: number = this.#now()): void {
    if (!this.enabled || gen !== this.#generation) return;
    this.#lru.set(key, { value, at });
  }

  /** How long ago the value for `key` was stored (also when expired), or undefined. */
  ageOf(key: string): number | undefined {
    const s = this.#lru.peek(key);
    return s === undefined ? undefined : this.#now() - s.at;
  }

  /** The stored value even if expired (for change detection), without touching LRU order. */
  peek(key: string): V | undefined {
    return this.#lru.peek(key)?.value;
  }

  delete(key: string): void {
    this.#generation++;
    this.#lru.delete(key);
  }

  clear(): void {
    this.#generation++;
    this.#lru.clear();
  }

  /** Keys, least recently used first. */
  keys(): string[] {
    return [...this.#lru.entries()].map(([key]) => key);
  }
}
