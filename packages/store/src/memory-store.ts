// The in-memory store: the embedded default for the quickstart and single-process use, with the
// same semantics as the Redis store (normalisation, tri-state lookups, notifications).
import type { Logger } from "pino";
import { InvalidValueError, RoomNotStoredError, StoreClosedError } from "./errors.js";
import { domainOf, normaliseBareJid, normaliseDomain } from "./jid.js";
import { ListenerSet } from "./listeners.js";
import { silentLogger } from "./logger.js";
import { DEFAULT_HISTORY_CAP, type ClearanceStore } from "./store.js";
import type {
  Affiliation,
  CatalogScope,
  ClearanceLookup,
  PeerClearanceEntry,
  PeerDirection,
  RawClearance,
  RawValue,
  RoomRecord,
  ServiceClearanceEntry,
  StoreEvent,
  StoreListener,
  Unsubscribe,
  UserClearanceEntry,
  ListPageQuery,
  UserClearancePage,
} from "./types.js";
import {
  checkAffiliation,
  checkCap,
  checkDirection,
  checkPageQuery,
  checkPolicy,
  checkRaw,
  cloneRoom,
  normaliseRoom,
  normaliseScope,
} from "./validate.js";
import { catalogKeyPart, DEFAULT_POLICY_FIELD } from "./key-schema.js";

export interface MemoryStoreOptions {
  logger?: Logger;
  /** Default cap of room history lists. */
  historyCap?: number;
}

export class MemoryStore implements ClearanceStore {
  // jid -> (policy field -> clearance)
  readonly #users = new Map<string, Map<string, RawClearance>>();
  readonly #services = new Map<string, RawClearance>();
  readonly #peers = new Map<string, RawClearance>();
  readonly #rooms = new Map<string, RoomRecord>();
  readonly #history = new Map<string, string[]>();
  readonly #catalogs = new Map<string, string>();
  readonly #listeners: ListenerSet;
  readonly #historyCap: number;
  #closed = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#listeners = new ListenerSet(opts.logger ?? silentLogger());
    this.#historyCap = checkCap(opts.historyCap, DEFAULT_HISTORY_CAP, "historyCap");
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  // Notifications are delivered asynchronously, after the change, like the Redis store's.
  #notify(event: StoreEvent): void {
    queueMicrotask(() => this.#listeners.emit(event));
  }

  async getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup> {
    this.#open();
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    const byPolicy = this.#users.get(j);
    const found = (p !== undefined ? byPolicy?.get(p) : undefined) ?? byPolicy?.get(DEFAULT_POLICY_FIELD);
    return found ? { status: "known", clearance: { ...found }, source: "store" } : { status: "none" };
  }

  async setUserClearance(jid: string, clearance: RawClearance, policy?: string): Promise<void> {
    this.#open();
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    const c = checkRaw(clearance, "clearance");
    let m = this.#users.get(j);
    if (!m) this.#users.set(j, (m = new Map<string, RawValue>()));
    m.set(p ?? DEFAULT_POLICY_FIELD, c);
    this.#notify(
      p === undefined ? { kind: "user-clearance", jid: j } : { kind: "user-clearance", jid: j, policy: p },
    );
  }

  async deleteUserClearance(jid: string, policy?: string): Promise<boolean> {
    this.#open();
    const j = normaliseBareJid(jid);
    const p = checkPolicy(policy);
    const m = this.#users.get(j);
    const removed = m?.delete(p ?? DEFAULT_POLICY_FIELD) ?? false;
    if (m && m.size === 0) this.#users.delete(j);
    if (removed)
      this.#notify(
        p === undefined ? { kind: "user-clearance", jid: j } : { kind: "user-clearance", jid: j, policy: p },
      );
    return removed;
  }

  async listUserClearances(): Promise<UserClearanceEntry[]> {
    this.#open();
    const out: UserClearanceEntry[] = [];
    for (const jid of [...this.#users.keys()].sort()) {
      const m = this.#users.get(jid);
      if (!m) continue;
      for (const field of [...m.keys()].sort()) {
        const c = m.get(field);
        if (!c) continue;
        out.push(
          field === DEFAULT_POLICY_FIELD
            ? { jid, clearance: { ...c } }
            : { jid, policy: field, clearance: { ...c } },
        );
      }
    }
    return out;
  }

  async listUserClearancesPage(q?: ListPageQuery): Promise<UserClearancePage> {
    this.#open();
    const { query, limit, cursor } = checkPageQuery(q);
    // The cursor is the last JID of the previous page (pages in JID order).
    let after: string | undefined;
    if (cursor !== undefined) {
      if (!cursor.startsWith("m:")) throw new InvalidValueError("not a cursor of this store");
      after = Buffer.from(cursor.slice(2), "base64url").toString("utf8");
    }
    const jids = [...this.#users.keys()]
      .filter((j) => (after === undefined || j > after) && (query === "" || j.includes(query)))
      .sort();
    const page = jids.slice(0, limit);
    const entries: UserClearanceEntry[] = [];
    for (const jid of page) {
      const m = this.#users.get(jid);
      for (const field of [...(m?.keys() ?? [])].sort()) {
        const c = m?.get(field);
        if (!c) continue;
        entries.push(
          field === DEFAULT_POLICY_FIELD
            ? { jid, clearance: { ...c } }
            : { jid, policy: field, clearance: { ...c } },
        );
      }
    }
    const last = page.at(-1);
    return jids.length > limit && last !== undefined
      ? { entries, next: `m:${Buffer.from(last, "utf8").toString("base64url")}` }
      : { entries };
  }

  async getServiceClearance(domain: string): Promise<ClearanceLookup> {
    this.#open();
    const c = this.#services.get(normaliseDomain(domain));
    return c ? { status: "known", clearance: { ...c }, source: "store" } : { status: "none" };
  }

  async setServiceClearance(domain: string, clearance: RawClearance): Promise<void> {
    this.#open();
    const d = normaliseDomain(domain);
    this.#services.set(d, checkRaw(clearance, "clearance"));
    this.#notify({ kind: "service-clearance", domain: d });
  }

  async deleteServiceClearance(domain: string): Promise<boolean> {
    this.#open();
    const d = normaliseDomain(domain);
    const removed = this.#services.delete(d);
    if (removed) this.#notify({ kind: "service-clearance", domain: d });
    return removed;
  }

  async listServiceClearances(): Promise<ServiceClearanceEntry[]> {
    this.#open();
    return [...this.#services.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([domain, c]) => ({ domain, clearance: { ...c } }));
  }

  async getPeerClearance(domain: string, direction: PeerDirection): Promise<ClearanceLookup> {
    this.#open();
    const c = this.#peers.get(`${normaliseDomain(domain)} ${checkDirection(direction)}`);
    return c ? { status: "known", clearance: { ...c }, source: "store" } : { status: "none" };
  }

  async setPeerClearance(domain: string, direction: PeerDirection, clearance: RawClearance): Promise<void> {
    this.#open();
    const d = normaliseDomain(domain);
    const dir = checkDirection(direction);
    this.#peers.set(`${d} ${dir}`, checkRaw(clearance, "clearance"));
    this.#notify({ kind: "peer-clearance", domain: d, direction: dir });
  }

  async deletePeerClearance(domain: string, direction: PeerDirection): Promise<boolean> {
    this.#open();
    const d = normaliseDomain(domain);
    const dir = checkDirection(direction);
    const removed = this.#peers.delete(`${d} ${dir}`);
    if (removed) this.#notify({ kind: "peer-clearance", domain: d, direction: dir });
    return removed;
  }

  async listPeerClearances(): Promise<PeerClearanceEntry[]> {
    this.#open();
    const out: PeerClearanceEntry[] = [];
    for (const key of [...this.#peers.keys()].sort()) {
      const [domain, direction] = key.split(" ") as [string, PeerDirection];
      const c = this.#peers.get(key);
      if (c) out.push({ domain, direction, clearance: { ...c } });
    }
    return out;
  }

  async getRoom(jid: string): Promise<RoomRecord | undefined> {
    this.#open();
    const r = this.#rooms.get(normaliseBareJid(jid));
    return r ? cloneRoom(r) : undefined;
  }

  async putRoom(room: RoomRecord): Promise<void> {
    this.#open();
    const r = normaliseRoom(room);
    this.#rooms.set(r.jid, r);
    this.#notify({ kind: "room", jid: r.jid });
  }

  async deleteRoom(jid: string): Promise<boolean> {
    this.#open();
    const j = normaliseBareJid(jid);
    const existed = this.#rooms.delete(j);
    const hadHistory = this.#history.delete(j);
    if (existed || hadHistory) this.#notify({ kind: "room", jid: j });
    return existed;
  }

  async listRooms(domain?: string): Promise<string[]> {
    this.#open();
    const d = domain === undefined ? undefined : normaliseDomain(domain);
    return [...this.#rooms.keys()].filter((j) => d === undefined || domainOf(j) === d).sort();
  }

  async setAffiliation(room: string, jid: string, affiliation: Affiliation | "none"): Promise<boolean> {
    this.#open();
    const r = this.#rooms.get(normaliseBareJid(room));
    const who = normaliseBareJid(jid);
    const a = checkAffiliation(affiliation);
    if (!r) return false;
    if (a === "none") delete r.affiliations[who];
    else r.affiliations[who] = a;
    this.#notify({ kind: "room", jid: r.jid });
    return true;
  }

  async appendRoomHistory(room: string, entry: string, cap?: number): Promise<void> {
    this.#open();
    const j = normaliseBareJid(room);
    const c = checkCap(cap, this.#historyCap, "cap");
    if (typeof entry !== "string") throw new InvalidValueError("history entry must be a string");
    // As RedisStore: no history for a room the store does not hold (deleted, temporary, never stored).
    if (!this.#rooms.has(j)) throw new RoomNotStoredError(j);
    let list = this.#history.get(j);
    if (!list) this.#history.set(j, (list = []));
    list.push(entry);
    if (list.length > c) list.splice(0, list.length - c);
  }

  async getRoomHistory(room: string, limit?: number): Promise<string[]> {
    this.#open();
    const list = this.#history.get(normaliseBareJid(room)) ?? [];
    const n = limit === undefined ? list.length : checkCap(limit, 1, "limit");
    return list.slice(Math.max(0, list.length - n));
  }

  async getCatalog(scope: CatalogScope): Promise<string | undefined> {
    this.#open();
    return this.#catalogs.get(catalogKeyPart(normaliseScope(scope)));
  }

  async setCatalog(scope: CatalogScope, value: string): Promise<void> {
    this.#open();
    const s = normaliseScope(scope);
    if (typeof value !== "string") throw new InvalidValueError("catalog must be a string");
    this.#catalogs.set(catalogKeyPart(s), value);
    this.#notify({ kind: "catalog", scope: s });
  }

  async deleteCatalog(scope: CatalogScope): Promise<boolean> {
    this.#open();
    const s = normaliseScope(scope);
    const removed = this.#catalogs.delete(catalogKeyPart(s));
    if (removed) this.#notify({ kind: "catalog", scope: s });
    return removed;
  }

  subscribe(listener: StoreListener): Unsubscribe {
    this.#open();
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }
}
