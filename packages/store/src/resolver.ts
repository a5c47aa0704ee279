// The clearance resolver used by components: explicit administrator-set clearances in the store
// take precedence over the directory.
//
// Precedence (per bare JID, per policy):
//  1. store answers "known"   -> that clearance (an administrator override, which may lower or raise it);
//  2. store answers "unknown" -> "unknown": without the store we cannot know whether an override exists,
//                                so we fail closed rather than fall back to the directory;
//  3. store answers "none"    -> the directory's answer ("known", "none" or "unknown");
//  4. no directory configured -> "none".
import type { UserClearanceSource } from "./store.js";
import type { ClearanceLookup, StoreListener, Unsubscribe } from "./types.js";

export interface ClearanceResolverOptions {
  store: UserClearanceSource;
  directory?: UserClearanceSource;
}

export class ClearanceResolver implements UserClearanceSource {
  readonly #store: UserClearanceSource;
  readonly #directory: UserClearanceSource | undefined;

  constructor(opts: ClearanceResolverOptions) {
    this.#store = opts.store;
    this.#directory = opts.directory;
  }

  async getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup> {
    const fromStore = await this.#store.getUserClearance(jid, policy);
    if (fromStore.status !== "none") return fromStore;
    if (this.#directory === undefined) return fromStore;
    return this.#directory.getUserClearance(jid, policy);
  }

  /** Changes from the store and from the directory, to one listener. */
  subscribe(listener: StoreListener): Unsubscribe {
    const a = this.#store.subscribe(listener);
    const b = this.#directory?.subscribe(listener);
    return () => {
      a();
      b?.();
    };
  }
}
