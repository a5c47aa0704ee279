// Where the clearances guarding a crossing come from: the direction's clearance (configured, or the
// store's peer clearance for the far-side domain), and the sender's clearance (local senders: their
// user clearance, or their domain's service clearance for domain and room JIDs; remote senders:
// the remote side's configured sender clearance, the store's service clearance of their domain, or
// else the direction's clearance). Store answers are cached until the store reports a change.
import type { Clearance } from "@cordon/policy";
import type { ClearanceLookup, PeerDirection, StoreListener, Unsubscribe } from "@cordon/store";
import type { LabelEngine } from "./label-check.js";

/** The part of @cordon/store's ClearanceStore the relay reads. */
export interface RelayClearanceStore {
  getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup>;
  getServiceClearance(domain: string): Promise<ClearanceLookup>;
  getPeerClearance(domain: string, direction: PeerDirection): Promise<ClearanceLookup>;
  subscribe(listener: StoreListener): Unsubscribe;
}

/** known: a parsed clearance; none: there is none; unknown: cannot tell now (backend down, unreadable value). Callers deny both. */
export type ClearanceAnswer =
  { status: "known"; clearance: Clearance } | { status: "none" } | { status: "unknown" };

const NONE: ClearanceAnswer = { status: "none" };
const UNKNOWN: ClearanceAnswer = { status: "unknown" };

/** How long a store answer is reused without a notification (a missed one cannot keep a grant longer). */
const MAX_AGE_MS = 5_000;

export class ClearanceSource {
  readonly #cache = new Map<string, { data: string | null; at: number }>();
  readonly #unsubscribe: Unsubscribe;
  /** Bumped by every store notification: a lookup that started before one is not cached. */
  #generation = 0;

  constructor(
    private readonly store: RelayClearanceStore,
    private readonly engine: LabelEngine,
  ) {
    this.#unsubscribe = store.subscribe(() => {
      this.#generation++;
      this.#cache.clear();
    });
  }

  close(): void {
    this.#unsubscribe();
  }

  /** A configured clearance (data) as an answer. */
  configured(data: string): ClearanceAnswer {
    const c = this.engine.clearanceFromData(data);
    return c ? { status: "known", clearance: c } : UNKNOWN;
  }

  async user(bareJid: string, policy: string): Promise<ClearanceAnswer> {
    return this.#lookup(`u ${policy} ${bareJid}`, () => this.store.getUserClearance(bareJid, policy));
  }

  async service(domain: string): Promise<ClearanceAnswer> {
    return this.#lookup(`s ${domain}`, () => this.store.getServiceClearance(domain));
  }

  async peer(domain: string, direction: PeerDirection): Promise<ClearanceAnswer> {
    return this.#lookup(`p ${direction} ${domain}`, () => this.store.getPeerClearance(domain, direction));
  }

  async #lookup(key: string, read: () => Promise<ClearanceLookup>): Promise<ClearanceAnswer> {
    const now = Date.now();
    const hit = this.#cache.get(key);
    let data: string | null;
    if (hit && now - hit.at < MAX_AGE_MS) data = hit.data;
    else {
      const generation = this.#generation;
      let answer: ClearanceLookup;
      try {
        answer = await read();
      } catch {
        // A malformed JID or a closed store: fail closed.
        return UNKNOWN;
      }
      if (answer.status === "unknown") return UNKNOWN;
      data = answer.status === "known" ? answer.clearance.data : null;
      // A notification during the lookup may have made this answer stale: use it once, don't keep it.
      if (generation === this.#generation) {
        if (this.#cache.size >= 10_000) this.#cache.clear();
        this.#cache.set(key, { data, at: now });
      }
    }
    if (data === null) return NONE;
    return this.configured(data);
  }
}
