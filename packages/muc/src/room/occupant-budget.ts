// Occupants' memory and per-user quotas (issue 14): each occupant keeps its presence payload (show,
// status, caps... XEP-0045 §7.2) to show to later joiners, bounded per occupant (`occupantBytes`:
// a larger presence is refused) and in total (`totalBytes`: a join or change past it is refused
// with resource-constraint); a user (bare JID) may be in at most `roomsPerUser` rooms at once.
// Sizes count two bytes a character (as the label caches do), per occupant, whether or not its
// payload is shared: the limits are what one occupant may make the service hold.
//
// Issue 19: occupants whose payloads are identical (same client, same caps, no status text — most
// of them) share one copy of it: the budget keeps one string per distinct payload while an occupant
// holds it (refcounted), so that copy is bounded as the payloads are (by `totalBytes`).
import { ownString } from "./own-string.js";

export interface OccupantLimits {
  /** Bytes of one occupant's presence payload. Default 16 KiB. */
  occupantBytes?: number;
  /** Bytes of every occupant's presence payload together. Default 32 MiB. */
  totalBytes?: number;
  /** Rooms one user (bare JID, all resources) may be in at once. Default 100. */
  roomsPerUser?: number;
}

export const DEFAULT_OCCUPANT_LIMITS = {
  occupantBytes: 16 * 1024,
  totalBytes: 32 * 1024 * 1024,
  roomsPerUser: 100,
} as const;

/** Why a presence cannot be kept: too large for one occupant, or the total is reached. */
export type PresenceRefusal = "too-large" | "full";

export class OccupantBudget {
  readonly occupantBytes: number;
  readonly totalBytes: number;
  readonly roomsPerUser: number;
  #bytes = 0;
  #occupants = 0;
  readonly #rooms = new Map<string, number>();
  /** One copy of each distinct payload an occupant holds, and how many hold it. */
  readonly #payloads = new Map<string, { value: string; holders: number }>();

  constructor(limits: OccupantLimits = {}) {
    this.occupantBytes = limits.occupantBytes ?? DEFAULT_OCCUPANT_LIMITS.occupantBytes;
    this.totalBytes = limits.totalBytes ?? DEFAULT_OCCUPANT_LIMITS.totalBytes;
    this.roomsPerUser = limits.roomsPerUser ?? DEFAULT_OCCUPANT_LIMITS.roomsPerUser;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get occupants(): number {
    return this.#occupants;
  }

  static sizeOf(presenceXml: string): number {
    return 2 * presenceXml.length;
  }

  /** Whether a presence payload replacing one of `previous` (0 for a join) may be kept. */
  checkPresence(presenceXml: string, previous = ""): PresenceRefusal | undefined {
    const bytes = OccupantBudget.sizeOf(presenceXml);
    if (bytes > this.occupantBytes) return "too-large";
    if (this.#bytes - OccupantBudget.sizeOf(previous) + bytes > this.totalBytes) return "full";
    return undefined;
  }

  /** Whether `bare` may enter one more room. */
  mayEnter(bare: string): boolean {
    return (this.#rooms.get(bare) ?? 0) < this.roomsPerUser;
  }

  /** Distinct payloads held (each once, however many occupants hold it). */
  get distinctPayloads(): number {
    return this.#payloads.size;
  }

  /**
   * An occupant entered: counts its payload and its room. Returns the payload to keep: the copy
   * every occupant with the same payload shares.
   */
  added(bare: string, presenceXml: string): string {
    this.#bytes += OccupantBudget.sizeOf(presenceXml);
    this.#occupants++;
    this.#rooms.set(bare, (this.#rooms.get(bare) ?? 0) + 1);
    return this.#hold(presenceXml);
  }

  /** An occupant's payload changed; returns the new payload to keep (shared as by `added`). */
  changed(previous: string, next: string): string {
    this.#bytes += OccupantBudget.sizeOf(next) - OccupantBudget.sizeOf(previous);
    const kept = this.#hold(next);
    this.#release(previous);
    return kept;
  }

  /** An occupant left. */
  removed(bare: string, presenceXml: string): void {
    this.#bytes -= OccupantBudget.sizeOf(presenceXml);
    this.#occupants--;
    const n = (this.#rooms.get(bare) ?? 1) - 1;
    if (n <= 0) this.#rooms.delete(bare);
    else this.#rooms.set(bare, n);
    this.#release(presenceXml);
  }

  #hold(payload: string): string {
    if (payload === "") return "";
    const held = this.#payloads.get(payload);
    if (held) {
      held.holders++;
      return held.value;
    }
    const value = ownString(payload);
    this.#payloads.set(value, { value, holders: 1 });
    return value;
  }

  #release(payload: string): void {
    const held = payload === "" ? undefined : this.#payloads.get(payload);
    if (held && --held.holders === 0) this.#payloads.delete(payload);
  }
}
