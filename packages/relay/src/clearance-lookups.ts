// The clearance answers one decision reads, synchronously when they are cached (issue 19, goal 4:
// docs/performance.md §5). The clearance checks (clearance-check.ts) are written once, as a
// synchronous function over a `ClearanceLookups`; a lookup the cache cannot answer now returns
// MISS and the checks stop there. `decide` then awaits that one lookup (the ClearanceReader's own
// path: single flight, notifications overtaking a read, unknown never cached) and runs the checks
// again. Every answer a decision has read is kept by its position, so a run again sees exactly
// what the earlier run saw for the lookups before the miss, and reads the later ones when it
// reaches them — the order and the moments of reading of the former `await`-per-lookup code, and
// the same invalidation: a cached answer is one the reader's `cached*` calls fresh (age, policy
// generation; every clearance or connection notification empties the cache).
import type { ClearanceState } from "@cordon/rules";
import type { PeerDirection } from "@cordon/store";
import type { ClearanceSource, RoomClearance } from "./clearances.js";

/** A lookup whose answer is not cached: the checks stop and the decision awaits it. */
export const MISS: unique symbol = Symbol("clearance-miss");
export type Miss = typeof MISS;

/** How many lookups one decision may make (direction, sender, up to two for the recipient, room, service). */
const MAX_LOOKUPS = 16;

type Answer = ClearanceState | RoomClearance;

export class ClearanceLookups {
  /** The answers read so far, in the order the checks asked for them. */
  readonly #answers: Answer[] = [];
  #next = 0;
  /** The lookup the last run stopped at. */
  #missing: (() => Promise<Answer>) | undefined;

  constructor(readonly source: ClearanceSource) {}

  /** Starts a run of the checks: the answers read so far are given again, in order. */
  rewind(): this {
    this.#next = 0;
    this.#missing = undefined;
    return this;
  }

  /** A configured clearance: never looked up (ClearanceSource `configured`). */
  configured(data: string): ClearanceState {
    return this.source.configured(data);
  }

  user(bareJid: string, policy: string): ClearanceState | Miss {
    const known = this.#known();
    if (known !== undefined) return known as ClearanceState;
    const hit = this.source.cachedUser(bareJid, policy);
    if (hit !== undefined) return this.#hit(hit);
    return this.#miss(() => this.source.user(bareJid, policy));
  }

  service(domain: string): ClearanceState | Miss {
    const known = this.#known();
    if (known !== undefined) return known as ClearanceState;
    const hit = this.source.cachedService(domain);
    if (hit !== undefined) return this.#hit(hit);
    return this.#miss(() => this.source.service(domain));
  }

  peer(domain: string, direction: PeerDirection): ClearanceState | Miss {
    const known = this.#known();
    if (known !== undefined) return known as ClearanceState;
    const hit = this.source.cachedPeer(domain, direction);
    if (hit !== undefined) return this.#hit(hit);
    return this.#miss(() => this.source.peer(domain, direction));
  }

  /** A room's clearance is the store's (never cached): always awaited. */
  room(jid: string): RoomClearance | Miss {
    const known = this.#known();
    if (known !== undefined) return known as RoomClearance;
    return this.#miss(() => this.source.room(jid));
  }

  /**
   * Awaits the lookup the last run stopped at and keeps its answer; false when that run stopped at
   * none. Throws when the checks keep asking (a bug: the decision then fails closed).
   */
  async fetchMissing(): Promise<boolean> {
    const missing = this.#missing;
    if (!missing) return false;
    if (this.#answers.length >= MAX_LOOKUPS) throw new Error("too many clearance lookups in one decision");
    this.#answers.push(await missing());
    return true;
  }

  /** The answer already read for this position of the run, if any. */
  #known(): Answer | undefined {
    const at = this.#next++;
    return at < this.#answers.length ? this.#answers[at] : undefined;
  }

  #hit(answer: ClearanceState): ClearanceState {
    this.#answers.push(answer);
    return answer;
  }

  /** The run stops here: the checks return MISS at once, so the positions stay those of the run. */
  #miss(fetch: () => Promise<Answer>): Miss {
    this.#missing = fetch;
    return MISS;
  }
}
