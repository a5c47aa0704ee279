// A cache of computed catalogs per (requester, target, home server), bounded in bytes (the one
// byte-bounded LRU of Cordon, @cordon/policy's ByteLru; an entry weighs its key, its catalog with
// its labels, its dependencies and the serialised forms built from it: catalog-bytes.ts), and
// invalidated by store change notifications: each entry lists what it depends on (`user:JID`,
// `room:JID`, `peer:DOMAIN`, `service:DOMAIN`), and a notification drops every entry depending on
// what changed. A catalog computed while a notification arrived is not stored (the generation moved
// on). Entries also age out (default 60 s): a change no notification reports (a directory entry of
// a user the directory's own cache no longer follows) is picked up within that time.
//
// Bounded in bytes, not entries: a catalog's size is the labels its catalogs and the store's
// records list, the targets requesters name — 10,000 entries (the bound before) of catalogs of a
// few dozen labels each held hundreds of MB.
import type { StoreEvent } from "@cordon/store";
import type { Element } from "@cordon/component";
import { ByteLru, internalized } from "@cordon/policy";
import type { Catalog } from "./catalog.js";
import { catalogEntryBytes } from "./catalog-bytes.js";

/** The default byte budget of the catalog cache (32 MiB). */
export const DEFAULT_CATALOG_CACHE_BYTES = 32 * 1024 * 1024;

export interface CatalogCacheEntry {
  readonly catalog: Catalog;
  readonly deps: readonly string[];
  readonly policyGeneration: number;
  readonly storedAt: number;
  /** Serialised forms by namespace, built on first use (`element`). */
  readonly elements: Map<string, Element>;
}

export class CatalogCache {
  readonly #lru: ByteLru<CatalogCacheEntry>;
  readonly #byDep = new Map<string, Set<string>>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #generation = 0;
  hits = 0;
  misses = 0;
  invalidations = 0;

  constructor(maxBytes = DEFAULT_CATALOG_CACHE_BYTES, maxAgeMs = 60_000, now: () => number = Date.now) {
    this.#lru = new ByteLru<CatalogCacheEntry>(maxBytes, catalogEntryBytes, (key, entry) =>
      this.#unindex(key, entry),
    );
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** Bytes held: keys, catalogs, dependencies, serialised forms and overheads. */
  get bytes(): number {
    return this.#lru.bytes;
  }

  get maxBytes(): number {
    return this.#lru.maxBytes;
  }

  /** Changes with every invalidation: pass the value read before computing to `set`. */
  get generation(): number {
    return this.#generation;
  }

  static key(requester: string, target: string, home: string): string {
    return `${requester}\u0000${target}\u0000${home}`;
  }

  get(key: string, policyGeneration: number): CatalogCacheEntry | undefined {
    const entry = this.#lru.get(key);
    if (
      !entry ||
      entry.policyGeneration !== policyGeneration ||
      this.#now() - entry.storedAt > this.#maxAgeMs
    ) {
      if (entry) this.#delete(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return entry;
  }

  /** Stores a catalog computed since `generation` was read; ignored when something changed meanwhile. */
  set(
    key: string,
    catalog: Catalog,
    deps: readonly string[],
    generation: number,
    policyGeneration: number,
  ): void {
    if (generation !== this.#generation) return;
    this.#delete(key);
    // What is kept are copies of their own (a dependency is cut from the target as the request
    // wrote it: a view of its socket read otherwise; review keep15). ByteLru copies the key.
    const own = internalized(key);
    const entry: CatalogCacheEntry = {
      catalog,
      deps: deps.map(internalized),
      policyGeneration,
      storedAt: this.#now(),
      elements: new Map(),
    };
    this.#lru.set(own, entry);
    // (An entry larger than the whole budget is not kept.)
    if (this.#lru.peek(own) === entry) this.#index(own, entry);
  }

  /**
   * The entry's catalog serialised in `namespace` (`build`), built once and kept with the entry,
   * which is weighed again with it (and may make room for it, or go if it no longer fits).
   */
  element(key: string, entry: CatalogCacheEntry, namespace: string, build: () => Element): Element {
    const kept = entry.elements.get(namespace);
    if (kept) return kept;
    const built = build();
    if (this.#lru.peek(key) !== entry) return built;
    // The namespace is the request's xmlns: kept as the engine's own copy (review keep15).
    entry.elements.set(internalized(namespace), built);
    this.#lru.set(key, entry);
    if (this.#lru.peek(key) !== entry) this.#unindex(key, entry);
    return built;
  }

  /** Drops what a store notification makes stale. */
  invalidate(event: StoreEvent): void {
    this.#generation++;
    this.invalidations++;
    switch (event.kind) {
      case "user-clearance":
        return this.#dropDep(`user:${event.jid}`);
      case "room":
        return this.#dropDep(`room:${event.jid}`);
      case "peer-clearance":
        return this.#dropDep(`peer:${event.domain}`);
      case "service-clearance":
        return this.#dropDep(`service:${event.domain}`);
      default:
        // A catalog definition changed: any cached catalog may have used it.
        return this.clear();
    }
  }

  clear(): void {
    this.#generation++;
    this.#lru.clear();
    this.#byDep.clear();
  }

  #dropDep(dep: string): void {
    const keys = this.#byDep.get(dep);
    if (!keys) return;
    for (const key of [...keys]) this.#delete(key);
    this.#byDep.delete(dep);
  }

  #delete(key: string): void {
    const entry = this.#lru.peek(key);
    if (!entry) return;
    this.#lru.delete(key);
    this.#unindex(key, entry);
  }

  #index(key: string, entry: CatalogCacheEntry): void {
    for (const dep of entry.deps) {
      const keys = this.#byDep.get(dep) ?? new Set<string>();
      keys.add(key);
      this.#byDep.set(dep, keys);
    }
  }

  #unindex(key: string, entry: CatalogCacheEntry): void {
    for (const dep of entry.deps) {
      const keys = this.#byDep.get(dep);
      keys?.delete(key);
      if (keys && keys.size === 0) this.#byDep.delete(dep);
    }
  }
}
