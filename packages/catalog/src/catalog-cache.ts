// A bounded cache of computed catalogs per (requester, target, home server), invalidated by store
// change notifications: each entry lists what it depends on (`user:JID`, `room:JID`, `peer:DOMAIN`,
// `service:DOMAIN`), and a notification drops every entry depending on what changed. A catalog
// computed while a notification arrived is not stored (the generation moved on). Entries also
// age out (default 60 s): a change no notification reports (a directory entry of a user the
// directory's own cache no longer follows) is picked up within that time.
import type { StoreEvent } from "@cordon/store";
import type { Element } from "@cordon/component";
import type { Catalog } from "./catalog.js";

interface Entry {
  catalog: Catalog;
  deps: readonly string[];
  policyGeneration: number;
  storedAt: number;
  /** Serialised forms by namespace, built on first use. */
  elements: Map<string, Element>;
}

export class CatalogCache {
  readonly #entries = new Map<string, Entry>();
  readonly #byDep = new Map<string, Set<string>>();
  readonly #max: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #generation = 0;
  hits = 0;
  misses = 0;
  invalidations = 0;

  constructor(maxEntries = 10_000, maxAgeMs = 60_000, now: () => number = Date.now) {
    this.#max = Math.max(1, maxEntries);
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Changes with every invalidation: pass the value read before computing to `set`. */
  get generation(): number {
    return this.#generation;
  }

  static key(requester: string, target: string, home: string): string {
    return `${requester}\u0000${target}\u0000${home}`;
  }

  get(key: string, policyGeneration: number): Entry | undefined {
    const entry = this.#entries.get(key);
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
    this.#entries.delete(key);
    this.#entries.set(key, entry);
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
    this.#entries.set(key, { catalog, deps, policyGeneration, storedAt: this.#now(), elements: new Map() });
    for (const dep of deps) {
      const keys = this.#byDep.get(dep) ?? new Set<string>();
      keys.add(key);
      this.#byDep.set(dep, keys);
    }
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#delete(oldest);
    }
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
    this.#entries.clear();
    this.#byDep.clear();
  }

  #dropDep(dep: string): void {
    const keys = this.#byDep.get(dep);
    if (!keys) return;
    for (const key of [...keys]) this.#delete(key);
    this.#byDep.delete(dep);
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    for (const dep of entry.deps) {
      const keys = this.#byDep.get(dep);
      keys?.delete(key);
      if (keys && keys.size === 0) this.#byDep.delete(dep);
    }
  }
}
