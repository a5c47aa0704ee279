// A bounded LRU cache of parsed labels keyed by their wire form (bytes or string), for the hot path.
// Entries are tied to the registry generation: a policy reload invalidates them.
import { PolicyError } from "./errors.js";
import type { Label } from "./label.js";
import type { PolicyRegistry } from "./registry.js";
import { parseLabelData } from "./formats/detect.js";

interface Entry {
  readonly generation: number;
  readonly label: Label | undefined;
  readonly error: PolicyError | undefined;
}

export class LabelCache {
  readonly #map = new Map<string, Entry>();
  readonly #max: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly registry: PolicyRegistry,
    maxEntries = 10_000,
  ) {
    this.#max = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.#map.size;
  }

  /** Parse (or fetch) a label. Typed parse errors are cached too and rethrown. */
  get(input: Uint8Array | string): Label {
    const key =
      typeof input === "string"
        ? "s" + input
        : "b" + Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
    const gen = this.registry.generation;
    const hit = this.#map.get(key);
    if (hit && hit.generation === gen) {
      this.hits++;
      this.#map.delete(key);
      this.#map.set(key, hit);
      if (hit.error) throw hit.error;
      return hit.label!;
    }
    this.misses++;
    let entry: Entry;
    try {
      entry = { generation: gen, label: parseLabelData(input, this.registry), error: undefined };
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      entry = { generation: gen, label: undefined, error: e };
    }
    this.#map.delete(key);
    this.#map.set(key, entry);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
    if (entry.error) throw entry.error;
    return entry.label!;
  }

  clear(): void {
    this.#map.clear();
  }
}
