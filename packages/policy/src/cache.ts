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

/**
 * A least-recently-used map bounded in bytes. A hit moves its entry to the most recent end only
 * when it is not already in the more recent half by bytes (`at`: the bytes put at that end before
 * it; the entries after it weigh at most what was put there since): a hot entry costs one Map
 * lookup per hit, not a delete and a set. An entry hit stays until at least half the budget less
 * its own size was put after the hit. Found in review (adv42): counted in entries, an entry hit
 * behind a few large ones (the recent half by count) went with the next insertion.
 */
export class ByteLru<V> {
  readonly #map = new Map<string, { value: V; bytes: number; at: number }>();
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

  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    if (this.#put - hit.at - hit.bytes > this.#bytes / 2) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      hit.at = this.#put;
      this.#put += hit.bytes;
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
    // Iterated only when something must go: a Map's iteration starts at its oldest slot and steps
    // over the slots of deleted entries until the table is rebuilt — with entries replaced (a
    // delete and a set each) and room to spare, an empty loop cost 23 µs a set (10,000 entries;
    // the store's clearance cache, session 16), not the ~1 µs of the set itself.
    if (this.#bytes + bytes > this.maxBytes)
      for (const [oldest, entry] of this.#map) {
        if (this.#bytes + bytes <= this.maxBytes) break;
        this.#map.delete(oldest);
        this.#bytes -= entry.bytes;
        this.onEvict?.(oldest, entry.value);
      }
    this.#map.set(key, { value, bytes, at: this.#put });
    this.#put += bytes;
    this.#bytes += bytes;
  }

  /** The value without counting a use (the order is left as it is). */
  peek(key: string): V | undefined {
    return this.#map.get(key)?.value;
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** Entries, least recently used first (a read does not reorder them). */
  *entries(): IterableIterator<[string, V]> {
    for (const [key, entry] of this.#map) yield [key, entry.value];
  }

  delete(key: string): void {
    const hit = this.#map.get(key);
    if (!hit) return;
    this.#map.delete(key);
    this.#bytes -= hit.bytes;
  }

  clear(): void {
    this.#map.clear();
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
