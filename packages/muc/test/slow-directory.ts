// Test-only: a directory of user clearances whose answers are slow and come back in any order the
// test chooses (as LDAP under load does): each read answers the value as it was when it was read,
// when the test releases it. Setting a value notifies at once, as the store does.
import type {
  ClearanceLookup,
  RawClearance,
  StoreListener,
  Unsubscribe,
  UserClearanceSource,
} from "@cordon/store";

export interface PendingRead {
  readonly jid: string;
  /** The answer as of when the read was made (stale once the value changed since). */
  readonly answer: ClearanceLookup;
  release(): void;
}

export class SlowDirectory implements UserClearanceSource {
  readonly #values = new Map<string, RawClearance>();
  readonly #listeners = new Set<StoreListener>();
  /** Reads not answered yet, oldest first. */
  readonly reads: PendingRead[] = [];
  /** Answer at once instead (setting up). */
  fast = false;
  /** Reads made so far. */
  count = 0;

  current(jid: string): RawClearance | undefined {
    return this.#values.get(jid);
  }

  /** Changes a user's clearance and notifies at once (undefined: removed). */
  set(jid: string, value: RawClearance | undefined): void {
    this.setQuietly(jid, value);
    for (const listener of [...this.#listeners]) listener({ kind: "user-clearance", jid });
  }

  /** Changes a user's clearance without a notification (one lost: the periodic re-read finds it). */
  setQuietly(jid: string, value: RawClearance | undefined): void {
    if (value) this.#values.set(jid, value);
    else this.#values.delete(jid);
  }

  getUserClearance(jid: string): Promise<ClearanceLookup> {
    this.count++;
    const value = this.#values.get(jid);
    const answer: ClearanceLookup = value
      ? { status: "known", clearance: value, source: "directory" }
      : { status: "none" };
    if (this.fast) return Promise.resolve(answer);
    return new Promise((resolve) => {
      const read: PendingRead = {
        jid,
        answer,
        release: () => {
          const i = this.reads.indexOf(read);
          if (i >= 0) this.reads.splice(i, 1);
          resolve(answer);
        },
      };
      this.reads.push(read);
    });
  }

  /** Answers the pending reads of `jid` (every one when omitted), newest first (reordered). */
  releaseNewestFirst(jid?: string): void {
    for (const read of [...this.reads].reverse()) if (jid === undefined || read.jid === jid) read.release();
  }

  subscribe(listener: StoreListener): Unsubscribe {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}

/** Lets every promise continuation that can run now run (pending reads stay pending). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
