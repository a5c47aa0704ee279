// The clearance watch: occupants' clearances are re-read when the store or directory reports a
// change (at once, not at the occupant's next message), every `clearanceRefreshMs` (a missed
// notification cannot keep a stale grant longer), and every second while the store reports its
// connection lost (so they turn "unknown" as soon as cached answers expire: fail closed). An
// occupant whose clearance no longer grants the room label is removed (307); one whose clearance
// is known again gets the subject it may have missed. Room notifications go to room sync.
// Issue 15 (races with a slow directory): a notification turns the occupants it concerns unknown at
// once, an answer older than the latest notification about its JID is discarded, and every
// occupant of a lowered user is updated, in every room, before anything is written.
import type { StoreEvent, UserClearanceSource } from "@cordon/store";
import { sameClearanceState, unknownClearance, type ClearanceState } from "@cordon/rules";
import { toBare } from "@cordon/component";
import type { MucContext } from "./context.js";
import { takeOut } from "./presence.js";
import { subjectStanza } from "./subject.js";
import { readServiceBound, serviceGrants } from "../security/service-clearance.js";

/** Not a user JID: `overtaken` answers it for service, peer and connection notifications only. */
const SERVICE_READ = "\u0000service";

/** What an occupant holds between a change notification and the re-read it triggers. */
const PENDING = unknownClearance("changed; re-reading");

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

  /**
   * Re-reads the clearances of the given bare JIDs (all occupants when omitted) and acts on changes.
   * Issue 15: an answer a notification about its JID overtook is discarded (the notification's own
   * re-read decides), and the answers are applied to every occupant in every room, removals
   * included, before anything is written — a user removed from one room is not still delivered to
   * in another while the removal presences wait for a slow link.
   */
  async refresh(bares?: Set<string>): Promise<void> {
    const { rooms, clearances, logger } = this.#ctx;
    const targets = new Set<string>();
    for (const room of rooms.values())
      for (const o of room.occupants.values()) if (!bares || bares.has(o.bare)) targets.add(o.bare);
    if (targets.size === 0) return;
    const since = clearances.generation;
    const fresh = new Map<string, ClearanceState>();
    // A whole-service re-read also reads the service clearance: rooms it no longer covers are emptied.
    const [service] = await Promise.all([
      bares ? undefined : readServiceBound(this.#ctx),
      ...[...targets].map(async (bare) => fresh.set(bare, await clearances.lookup(bare))),
    ]);
    for (const bare of targets) if (clearances.overtaken(since, bare)) fresh.delete(bare);
    // A service, peer or connection notification since: the bound read is not acted on (its own re-read is).
    const bound = service && !clearances.overtaken(since, SERVICE_READ) ? service : undefined;
    const out: string[] = [];
    for (const room of [...rooms.values()]) {
      // The service clearance bounds every room label (security/service-clearance.ts): a room the
      // operator's lowered bound no longer covers is not served — its occupants are removed, as the
      // room cannot be entered (presence.ts); unknown decides nothing (adversarial review, issue 15).
      if (
        bound?.status === "known" &&
        !(room.security.label && serviceGrants(this.#ctx.labels, bound, room.security.label))
      ) {
        for (const occupant of [...room.occupants.values()])
          out.push(
            ...takeOut(this.#ctx, room, occupant, {
              statuses: [307],
              reason: "This room's label is no longer permitted on this service",
              ours: true,
            }),
          );
        continue;
      }
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
          out.push(
            ...takeOut(this.#ctx, room, occupant, {
              statuses: [307],
              reason: "Your clearance no longer covers this room's label",
              ours: true,
            }),
          );
        } else if (wasUnknown) {
          // Known again and still cleared: the subject it may have missed meanwhile.
          out.push(subjectStanza(room, occupant.jid));
        }
      }
    }
    if (out.length > 0) await this.#ctx.send(out);
  }

  /**
   * The store's PING gave up (no answer in time: @cordon/store notification-barrier.ts) and the
   * incoming hold lets stanzas go while notifications may be unheard: every occupant's clearance
   * is a value a notification in flight may have changed — unknown at once, in every room, until
   * re-read (adversarial review adv13s: SECRET reached an occupant lowered to UNCLASSIFIED).
   */
  behind(): void {
    this.#forgetAll();
    this.refreshSoon();
  }

  /** Every occupant's clearance unknown, in every room, until its re-read answers. */
  #forgetAll(): void {
    for (const room of this.#ctx.rooms.values())
      for (const occupant of room.occupants.values())
        if (occupant.clearance.status !== "unknown") occupant.clearance = PENDING;
  }

  /**
   * A notification that a user's clearance (or a peer domain's, which its users may fall back on)
   * changed makes what their occupants hold older than the latest notification: unknown at once,
   * in every room, until the re-read answers — nothing labelled reaches them meanwhile, however slow
   * the directory (issue 15).
   */
  #invalidate(event: StoreEvent): void {
    const local = this.#ctx.settings.localDomains;
    const concerns = (bare: string): boolean => {
      if (event.kind === "user-clearance") return bare === (toBare(event.jid) ?? event.jid);
      if (event.kind !== "peer-clearance" || event.direction !== "inbound") return false;
      const domain = bare.slice(bare.indexOf("@") + 1);
      return domain === event.domain && !local.includes(domain);
    };
    for (const room of this.#ctx.rooms.values())
      for (const occupant of room.occupants.values())
        if (occupant.clearance.status !== "unknown" && concerns(occupant.bare)) occupant.clearance = PENDING;
  }

  // The store lost its connection (or only its subscriber): a notification may be missed from now
  // on, so every occupant's clearance is unknown at once, not only at the first outage re-read a
  // second later (adv13s: with the incoming hold off while the subscriber is known lost, that second
  // decided on the snapshots). The re-read starts after every listener of this event has run: one
  // started now could be answered from a cache the clearance reader's own listener has not yet
  // emptied (then from Redis when only the subscriber went, else unknown — fail closed). While
  // down, re-read every occupant each second; when back, at once.
  #onConnection(state: "down" | "up"): void {
    if (state === "down" && !this.#outageTimer) {
      this.#outageTimer = setInterval(() => this.refreshSoon(), 1000);
      this.#outageTimer.unref();
      this.#forgetAll();
      queueMicrotask(() => this.refreshSoon());
    } else if (state === "up") {
      if (this.#outageTimer) clearInterval(this.#outageTimer);
      this.#outageTimer = undefined;
      this.refreshSoon();
    }
  }

  // Store events arrive on the store's emitter, which cannot wait: each refresh runs on its own,
  // after every listener of this event has run (the clearance reader's included: a re-read started
  // before it saw the notification would be one the notification overtook).
  #onStoreEvent(event: StoreEvent): void {
    if (event.kind === "connection") return this.#onConnection(event.state);
    if (event.kind === "user-clearance") {
      this.#invalidate(event);
      const jid = toBare(event.jid) ?? event.jid;
      queueMicrotask(
        () =>
          void this.refresh(new Set([jid])).catch((e: Error) =>
            this.#ctx.logger.warn({ err: e.message }, "clearance refresh failed"),
          ),
      );
    } else if (event.kind === "peer-clearance" || event.kind === "service-clearance") {
      this.#invalidate(event);
      queueMicrotask(() => this.refreshSoon());
    } else if (event.kind === "room" && event.jid.endsWith(`@${this.#ctx.settings.domain}`))
      this.#options.onRoom(event.jid);
  }
}
