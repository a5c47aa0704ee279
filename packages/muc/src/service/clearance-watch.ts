// The clearance watch: occupants' clearances are re-read when the store or directory reports a
// change (at once, not at the occupant's next message), every `clearanceRefreshMs` (a missed
// notification cannot keep a stale grant longer), and every second while the store reports its
// connection lost (so they turn "unknown" as soon as cached answers expire: fail closed). An
// occupant whose clearance no longer grants the room label is removed (307); one whose clearance
// is known again gets the subject it may have missed. Room notifications go to room sync.
import type { StoreEvent, UserClearanceSource } from "@cordon/store";
import { sameClearanceState, type ClearanceState } from "@cordon/rules";
import type { MucContext } from "./context.js";
import { removeOccupant } from "./presence.js";
import { subjectStanza } from "./subject.js";

export interface ClearanceWatchOptions {
  /** Where user clearances come from when not the store (a resolver over store and directory). */
  users?: UserClearanceSource;
  /** A store notification about a room of this service. */
  onRoom(jid: string): void;
}

export class ClearanceWatch {
  readonly #ctx: MucContext;
  readonly #options: ClearanceWatchOptions;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #outageTimer: NodeJS.Timeout | undefined;

  constructor(ctx: MucContext, options: ClearanceWatchOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Subscribes to store (and directory) notifications and starts the periodic refresh. */
  start(): void {
    const { store } = this.#ctx;
    // Clearance changes come from the clearance source (store, and the directory behind a
    // resolver); everything else (rooms, peers, the connection) from the store itself.
    const users = this.#options.users;
    if (users && users !== store) {
      const offStore = store.subscribe((event) => {
        if (event.kind !== "user-clearance") this.#onStoreEvent(event);
      });
      const offUsers = users.subscribe((event) => {
        if (event.kind === "user-clearance") this.#onStoreEvent(event);
      });
      this.#unsubscribe = () => {
        offStore();
        offUsers();
      };
    } else {
      this.#unsubscribe = store.subscribe((event) => this.#onStoreEvent(event));
    }
    this.#timer = setInterval(() => this.refreshSoon(), this.#ctx.settings.clearanceRefreshMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
    if (this.#outageTimer) clearInterval(this.#outageTimer);
  }

  /**
   * A refresh of every occupant that nobody waits for (timers, store events, a policy reload): a
   * failure is left to the next event or the periodic refresh.
   */
  refreshSoon(): void {
    void this.refresh().catch(() => undefined);
  }

  /** Re-reads the clearances of the given bare JIDs (all occupants when omitted) and acts on changes. */
  async refresh(bares?: Set<string>): Promise<void> {
    const { rooms, clearances, logger } = this.#ctx;
    const targets = new Set<string>();
    for (const room of rooms.values())
      for (const o of room.occupants.values()) if (!bares || bares.has(o.bare)) targets.add(o.bare);
    const fresh = new Map<string, ClearanceState>();
    await Promise.all([...targets].map(async (bare) => fresh.set(bare, await clearances.lookup(bare))));
    for (const room of [...rooms.values()]) {
      for (const occupant of [...room.occupants.values()]) {
        const state = fresh.get(occupant.bare);
        if (!state || sameClearanceState(state, occupant.clearance)) continue;
        const wasUnknown = occupant.clearance.status === "unknown";
        occupant.clearance = state;
        if (state.status === "unknown") {
          logger.warn(
            { room: room.jid },
            "an occupant's clearance became unknown; nothing labelled reaches them until it is known again",
          );
          continue;
        }
        const clearance = state.status === "known" ? state.clearance : undefined;
        if (!this.#ctx.labels.grants(room.security.label, clearance)) {
          await removeOccupant(this.#ctx, room, occupant, {
            statuses: [307],
            reason: "Your clearance no longer covers this room's label",
            ours: true,
          });
        } else if (wasUnknown) {
          // Known again and still cleared: the subject it may have missed meanwhile.
          await this.#ctx.send([subjectStanza(room, occupant.jid)]);
        }
      }
    }
  }

  // While the store is down, re-read every occupant's clearance each second: once cached answers
  // pass their TTL they turn "unknown" and nothing labelled reaches anyone (fail closed) — not only
  // at the next periodic refresh. When it is back, re-read at once.
  #onConnection(state: "down" | "up"): void {
    if (state === "down" && !this.#outageTimer) {
      this.#outageTimer = setInterval(() => this.refreshSoon(), 1000);
      this.#outageTimer.unref();
    } else if (state === "up") {
      if (this.#outageTimer) clearInterval(this.#outageTimer);
      this.#outageTimer = undefined;
      this.refreshSoon();
    }
  }

  // Store events arrive on the store's emitter, which cannot wait: each refresh runs on its own.
  #onStoreEvent(event: StoreEvent): void {
    if (event.kind === "connection") return this.#onConnection(event.state);
    if (event.kind === "user-clearance")
      void this.refresh(new Set([event.jid])).catch((e: Error) =>
        this.#ctx.logger.warn({ err: e.message }, "clearance refresh failed"),
      );
    else if (event.kind === "peer-clearance" || event.kind === "service-clearance") this.refreshSoon();
    else if (event.kind === "room" && event.jid.endsWith(`@${this.#ctx.settings.domain}`))
      this.#options.onRoom(event.jid);
  }
}
