// A small TTL cache with an LRU bound and a generation counter, so an answer fetched before an
// invalidation is never stored after it.
//
// Ages are read on a monotonic clock (performance.now), never the wall clock: the Redis store's
// outage grace answers a failed read from here "within the TTL", and a wall clock stepped back (an
// NTP step, a VM restored, `date -s`) made every entry younger by the step — with this process cut
// off from Redis, a clearance lowered elsewhere was answered at its old value for as long as the
// step, not at most the TTL (adversarial review adv15r: 1 h back, the old clearance answered 1.5 s
// after a 1 s TTL; test/redis-clock-jump.test.ts).

interface Slot<V> {
  value: V;
  at: number;
}

export class TtlCache<K, V> {
  readonly #map = new Map<K, Slot<V>>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  #generation = 0;

  constructor(ttlMs: number, maxEntries: number, now: () => number = () => performance.now()) {
    this.#ttlMs = ttlMs;
    this.#max = maxEntries;
    this.#now = now;
  }

  get enabled(): boolean {
    return this.#ttlMs > 0 && this.#max > 0;
  }

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value if it was stored less than ttl ago (also its age), else undefined. */
  get(key: K): { value: V; ageMs: number } | undefined {
    const s = this.#map.get(key);
    if (s === undefined) return undefined;
    const age = this.#now() - s.at;
    if (age >= this.#ttlMs) return undefined;
    // Refresh LRU position.
    this.#map.delete(key);
    this.#map.set(key, s);
    return { value: s.value, ageMs: age };
  }

  /** Stores a value fetched at generation `gen`; ignored if an invalidation happened since. */
  set(key: K, value: V, gen: number = this.#generation, at: number = this.#now()): void {
    if (!this.enabled || gen !== this.#generation) return;
    this.#map.delete(key);
    this.#map.set(key, { value, at });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done === true) break;
      this.#map.delete(oldest.value);
    }
  }

  /** How long ago the value for `key` was stored (also when expired), or undefined. */
  ageOf(key: K): number | undefined {
    const s = this.#map.get(key);
    return s === undefined ? undefined : this.#now() - s.at;
  }

  /** The stored value even if expired (for change detection), without touching LRU order. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  delete(key: K): void {
    this.#generation++;
    this.#map.delete(key);
  }

  clear(): void {
    this.#generation++;
    this.#map.clear();
  }

  keys(): K[] {
    return [...this.#map.keys()];
  }
}
