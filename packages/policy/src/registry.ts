// The policy registry: policies by OID and by name, replaced atomically for hot reload.
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { UnknownPolicyError } from "./errors.js";
import { internalized } from "./intern.js";
import { loadPolicy } from "./spif/load.js";
import type { Policy } from "./spif/model.js";

interface Snapshot {
  readonly byId: ReadonlyMap<string, Policy>;
  readonly byName: ReadonlyMap<string, Policy>;
}

function snapshot(policies: Iterable<Policy>): Snapshot {
  const byId = new Map<string, Policy>();
  const byName = new Map<string, Policy>();
  for (const p of policies) {
    // A later policy with the same id or name replaces the earlier one.
    const old = byId.get(p.id);
    if (old && byName.get(old.name) === old) byName.delete(old.name);
    byId.set(internalized(p.id), p);
    byName.set(p.name, p);
  }
  return { byId, byName };
}

export class PolicyRegistry {
  #snap: Snapshot = { byId: new Map(), byName: new Map() };
  #generation = 0;
  readonly #listeners = new Set<() => void>();

  constructor(policies: Iterable<Policy> = []) {
    this.#snap = snapshot(policies);
  }

  /** Incremented on every change; caches compare it to drop stale entries. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Calls `listener` after every change (a policy registered or replaced, every policy replaced at
   * once: a reload), synchronously; returns the function that stops it.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#generation++;
    for (const listener of [...this.#listeners]) listener();
  }

  /** Register (or replace, by id and name) one policy. */
  register(policy: Policy): Policy {
    this.#snap = snapshot([...this.#snap.byId.values(), policy]);
    this.#changed();
    return policy;
  }

  /** Parse a SPIF document and register it. */
  loadString(xml: string): Policy {
    return this.register(loadPolicy(xml));
  }

  /** Read, parse and register a SPIF file. */
  async loadFile(path: string): Promise<Policy> {
    return this.loadString(await readFile(path, "utf8"));
  }

  /** Synchronous variant of loadFile (CLI, tests). */
  loadFileSync(path: string): Policy {
    return this.loadString(readFileSync(path, "utf8"));
  }

  /** Replace every policy at once: readers see either the old set or the new one. */
  replaceAll(policies: Iterable<Policy>): void {
    this.#snap = snapshot(policies);
    this.#changed();
  }

  byId(oid: string): Policy | undefined {
    return this.#snap.byId.get(oid);
  }

  byName(name: string): Policy | undefined {
    return this.#snap.byName.get(name);
  }

  /** The policy with this OID; throws UnknownPolicyError. */
  require(oid: string): Policy {
    const p = this.#snap.byId.get(oid);
    if (!p) throw new UnknownPolicyError(oid);
    return p;
  }

  /** The policy with this name; throws UnknownPolicyError. */
  requireName(name: string): Policy {
    const p = this.#snap.byName.get(name);
    if (!p) throw new UnknownPolicyError(name, "name");
    return p;
  }

  /** Look up by OID first, then by name. */
  get(oidOrName: string): Policy | undefined {
    return this.#snap.byId.get(oidOrName) ?? this.#snap.byName.get(oidOrName);
  }

  policies(): Policy[] {
    return [...this.#snap.byId.values()];
  }
}
