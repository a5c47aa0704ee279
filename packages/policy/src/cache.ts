// The one cache of parsed labels: least recently used, bounded in bytes rather than entries, so
// inputs a sender chose (a 200 KB label that will be refused, say) cost what they weigh and cannot
// fill memory. An entry costs its key (UTF-16, two bytes a character), an estimate of its value
// and a fixed overhead; one larger than the whole budget is not kept. Entries belong to a registry
// generation: a policy reload empties the cache.
import { PolicyError } from "./errors.js";
import type { Clearance } from "./clearance.js";
import type { Label } from "./label.js";
import type { PolicyRegistry } from "./registry.js";
import { parseLabelData } from "./formats/detect.js";
import { retainedLabel } from "./retain.js";
import { internalized } from "./intern.js";

/** Map entry, key string and bookkeeping, roughly (V8). */
export const ENTRY_OVERHEAD_BYTES = 96;

/** An estimate of what a parsed label holds in memory (object, bitsets, category references, encoding). */
export function labelBytes(label: Label): number {
  // What the encoded bytes keep alive: their whole buffer (retain.ts: a pool view holds its slab).
  return 256 + 48 * label.categories.length + (label.encoded?.buffer.byteLength ?? 0);
}

/** An estimate of what a parsed clearance holds in memory (object, class and category lists, bitsets). */
export function clearanceBytes(clearance: Clearance): number {
  return (
    256 +
    16 * (clearance.classifications.length + clearance.categories.length) +
    clearance.classBits.byteLength +
    clearance.catBits.byteLength
  );
}

/** One entry, linked in use order (`older` towards the least recently used end). */
interface LruNode<V> {
  readonly key: string;
  value: V;
  bytes: number;
  at: number;
  older: LruNode<V> | undefined;
  newer: LruNode<V> | undefined;
}

/**
 * A least-recently-used map bounded in bytes. A hit moves its entry to the most recent end only
 * when it is not already in the more recent half by bytes (`at`: the bytes put at that end before
 * it; the entries after it weigh at most what was put there since): a hot entry costs one Map
 * lookup per hit, not a move. An entry hit stays until at least half the budget less its own size
 * was put after it. Found in review (adv42): counted in entries, an entry hit behind a few large
 * ones (the recent half by count) went with the next insertion.
 *
 * The use order is a doubly linked list through the entries, the Map only finds them (session 17):
 * it was the Map's own insertion order, and making room iterated the Map from its oldest end — V8
 * steps over the slots of deleted entries until the table is rebuilt, so a full cache evicting at
 * each store paid ~13–16 µs a store (10,000 entries; bench/byte-lru.mjs has the figures). Eviction
 * is now the list's oldest node: constant time. Same order, same bytes, same evictions
 * (test/byte-lru-model.test.ts: random operations against a plain reference model).
 */
export class ByteLru<V> {
  readonly #map = new Map<string, LruNode<V>>();
  /** Least recently used. */
  #oldest: LruNode<V> | undefined;
  /** Most recently used. */
  #newest: LruNode<V> | undefined;
  #bytes = 0;
  /** Bytes of the entries put at the most recent end so far (set, or moved there by a hit). */
  #put = 0;

  constructor(
    readonly maxBytes: number,
    /** An estimate of a value's size in bytes. */
    readonly sizeOf: (value: V) => number,
    /** Called for each entry dropped to make room (not for `delete` or `clear`). */
    readonly onEvict?: (key: string, value: V) => void,
  ) {}

  /** Bytes held: keys, value estimates and overheads. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  #unlink(n: LruNode<V>): void {
    if (n.older === undefined) this.#oldest = n.newer;
    else n.older.newer = n.newer;
    if (n.newer === undefined) this.#newest = n.older;
    else n.newer.older = n.older;
    n.older = undefined;
    n.newer = undefined;
  }

  #append(n: LruNode<V>): void {
    n.older = this.#newest;
    n.newer = undefined;
    if (this.#newest === undefined) this.#oldest = n;
    else this.#newest.newer = n;
    this.#newest = n;
    n.at = this.#put;
    this.#put += n.bytes;
  }

  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (hit === undefined) return undefined;
    if (this.#put - hit.at - hit.bytes > this.#bytes / 2) {
      this.#unlink(hit);
      this.#append(hit);
    }
    return hit.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    // The key kept is a copy of its own: a string cut from another (V8 keeps a substring of 13
    // characters or more, or a concatenation, as a view of its parts) would keep its whole parent
    // alive — a stanza's socket read, a 1 MB text — behind the few bytes counted here (review own15:
    // 200 label keys cut from 1 MB texts held 200 MB against 131 KB counted).
    key = internalized(key);
    const bytes = 2 * key.length + this.sizeOf(value) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    while (this.#bytes + bytes > this.maxBytes && this.#oldest !== undefined) {
      const oldest = this.#oldest;
      this.#unlink(oldest);
      this.#map.delete(oldest.key);
      this.#bytes -= oldest.bytes;
      this.onEvict?.(oldest.key, oldest.value);
    }
    const node: LruNode<V> = { key, value, bytes, at: 0, older: undefined, newer: undefined };
    this.#append(node);
    this.#map.set(key, node);
    this.#bytes += bytes;
  }

  /** The value without counting a use (the order is left as it is). */
  peek(key: string): V | undefined {
    return this.#map.get(key)?.value;
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  /**
   * Entries, least recently used first (a read does not reorder them): those present when called,
   * less any deleted or evicted before it reaches them — a caller may delete as it goes (an expiry
   * sweep), as it could while this iterated the Map itself.
   */
  *entries(): IterableIterator<[string, V]> {
    const nodes: Array<LruNode<V>> = [];
    for (let n = this.#oldest; n !== undefined; n = n.newer) nodes.push(n);
    for (const n of nodes) if (this.#map.get(n.key) === n) yield [n.key, n.value];
  }

  delete(key: string): void {
    const hit = this.#map.get(key);
    if (hit === undefined) return;
    this.#unlink(hit);
    this.#map.delete(key);
    this.#bytes -= hit.bytes;
  }

  clear(): void {
    this.#map.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
    this.#bytes = 0;
  }
}

/** A ByteLru emptied whenever the registry's policies change. */
export class GenerationalLru<V> extends ByteLru<V> {
  #generation: number;

  constructor(
    readonly registry: PolicyRegistry,
    maxBytes: number,
    sizeOf: (value: V) => number,
  ) {
    super(maxBytes, sizeOf);
    this.#generation = registry.generation;
  }

  /** Drops every entry of an older generation; call before each lookup. */
  fresh(): this {
    if (this.registry.generation !== this.#generation) {
      this.#generation = this.registry.generation;
      this.clear();
    }
    return this;
  }
}

/** Label data (XML, DER bytes or base64) parsed once; typed parse errors are cached and rethrown. */
export class LabelCache {
  readonly #lru: GenerationalLru<Label | PolicyError>;
  hits = 0;
  misses = 0;

  constructor(
    readonly registry: PolicyRegistry,
    maxBytes = 16 * 1024 * 1024,
  ) {
    this.#lru = new GenerationalLru(registry, maxBytes, (v) =>
      v instanceof PolicyError ? 64 : labelBytes(v),
    );
  }

  get size(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.bytes;
  }

  /** Parse (or fetch) a label. */
  get(input: Uint8Array | string): Label {
    const key =
      typeof input === "string"
        ? "s" + input
        : "b" + Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
    let hit = this.#lru.fresh().get(key);
    if (hit) this.hits++;
    else {
      this.misses++;
      try {
        hit = retainedLabel(parseLabelData(input, this.registry));
      } catch (e) {
        if (!(e instanceof PolicyError)) throw e;
        hit = e;
      }
      this.#lru.set(key, hit);
    }
    if (hit instanceof PolicyError) throw hit;
    return hit;
  }

  clear(): void {
    this.#lru.clear();
  }
}
