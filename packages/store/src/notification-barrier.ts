// Whether every change notification published until a moment ago has been heard. A clearance
// lowered in Redis reaches the components as a pub/sub message; until it is heard, what they keep
// (cached lookups, MUC occupants' clearances, the guard's verdicts) still says the old clearance.
// Normally that is a round trip. But a process that was paused (SIGSTOP, a frozen VM, a long
// stall) wakes with the notification and the stanzas sent after the change both waiting in its
// sockets, and which it reads first is up to the kernel: read the stanzas first and they are
// decided with the old clearance (adversarial review adv44's test, seen failing 1 run in 4 on
// Prosody: SECRET reached a user lowered to UNCLASSIFIED before it was sent).
//
// Redis answers the commands of one connection in order, and pushes a channel's messages on it as
// they are published (https://redis.io/docs/latest/develop/interact/pubsub/ — PING is allowed in
// the subscribed state and answered in line): when the PONG of a PING sent at time t arrives,
// every message Redis published before it read that PING has been handed to us first (ioredis
// emits each as it parses it, in order). So "heard up to t". A PING goes out every
// `maxLagMs / 4`; a stanza arriving while the last answered one is older than `maxLagMs` is held
// until a PING answers (component incoming-hold.ts) — in steady state, never.
//
// A pause or stall shorter than `maxLagMs` leaves the same two sockets to be read in any order
// (adversarial review adv12b). So the loop is watched too (stall-watch.ts): once a stall was seen
// at time s, "heard" needs a PING *sent at or after s* answered — the PONG of one sent before
// (even if it arrives after the stall) proves nothing about what was published during it. In
// steady state no stall is seen and nothing more is asked.
//
// Behind: a PING that gives up — the periodic one too, while no stanza waits — means notifications
// may be unheard for longer than a component holds stanzas. Caches that decide without asking a
// component (the guard's verdicts in the server modules, issue 17) must hear of it, so the barrier
// tells `onBehind` then, and `onCaughtUp` once a PING answers and the barrier is current again
// (the store turns them into a "connection" down/up: redis-store.ts).
import { StallWatch } from "./stall-watch.js";

export interface BarrierOptions {
  /** How old "heard up to" may be before stanzas wait for a fresh PING (default 1000 ms). */
  readonly maxLagMs?: number;
  /** A PING not answered within this gives up: held stanzas go on, and the store is not current. */
  readonly timeoutMs?: number;
  /** A loop stall longer than this asks for a PING sent after it (default 50 ms; stall-watch.ts). */
  readonly stallMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
  /** A PING gave up while the subscription runs: notifications may be unheard (once per spell). */
  readonly onBehind?: () => void;
  /** After `onBehind`: a PING answered and every notification until a moment ago is heard. */
  readonly onCaughtUp?: () => void;
}

/** The subscriber connection: its PING, answered in line with its messages. */
export interface PingChannel {
  ping(): Promise<unknown>;
}

interface Ping {
  /** When it was sent. */
  readonly sent: number;
  /** When the first of the PINGs unanswered in a row was sent. */
  readonly unansweredSince: number;
  readonly settled: Promise<void>;
}

export class NotificationBarrier {
  readonly #channel: PingChannel;
  readonly #maxLagMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** When the newest answered PING was sent: every notification published before it was heard. */
  #heardUpTo = Number.NEGATIVE_INFINITY;
  #inFlight: Ping | undefined;
  readonly #stalls: StallWatch;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped at each start and stop: an answer to a PING of an earlier subscription counts for nothing. */
  #generation = 0;
  /** A PING gave up and none answered since (on this subscription). */
  #behind = false;
  readonly #onBehind: () => void;
  readonly #onCaughtUp: () => void;

  constructor(channel: PingChannel, options: BarrierOptions = {}) {
    this.#channel = channel;
    this.#maxLagMs = options.maxLagMs ?? 1000;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#now = options.now ?? (() => performance.now());
    this.#onBehind = options.onBehind ?? (() => undefined);
    this.#onCaughtUp = options.onCaughtUp ?? (() => undefined);
    // A stall seen by the timer: a PING at once, so its answer may be in before stanzas ask.
    this.#stalls = new StallWatch({
      thresholdMs: options.stallMs ?? 50,
      now: this.#now,
      onStall: (at) => void this.#ping(at),
    });
  }

  /**
   * Whether every notification published until `maxLagMs` ago, and until the latest loop stall,
   * has been heard — and no PING gave up since the last answer (behind). (Each call sights the
   * loop: a stall is seen here first after a SIGSTOP.)
   */
  get current(): boolean {
    return !this.#behind && this.#heardRecently();
  }

  /**
   * Undefined when current; else a promise that settles (never rejects) once a PING answered or
   * gave up. Also undefined while stopped: the subscriber is known lost, the store has said "down"
   * and its outage rules decide (clearances unknown: fail closed) — holding stanzas then would only
   * delay their refusals by a command timeout each (seen under a Sentinel failover).
   */
  heard(): Promise<void> | undefined {
    return this.current || this.#timer === undefined ? undefined : this.#ping(this.#stalls.stalledAt);
  }

  /** Whether the periodic PING runs (started on a subscription, not stopped since). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Whether a PING gave up and no answer came since (reset by start and stop). */
  get behind(): boolean {
    return this.#behind;
  }

  /** Starts the periodic PING (the subscription is in place). */
  start(): void {
    if (this.#timer) return;
    this.#generation++;
    this.#inFlight = undefined;
    this.#behind = false;
    this.#timer = setInterval(() => void this.#ping(), Math.max(1, Math.floor(this.#maxLagMs / 4)));
    this.#timer.unref();
    this.#stalls.start();
    void this.#ping();
  }

  /** The subscriber is down or closed: nothing is heard until a PING answers on the next one. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stalls.stop();
    this.#generation++;
    this.#heardUpTo = Number.NEGATIVE_INFINITY;
    // The store's own "down" covers a lost subscriber; a new subscription starts afresh.
    this.#behind = false;
  }

  /**
   * A PING sent at or after `notBefore`: the one in flight if it was, else a new one. A new one sent
   * while an older is unanswered (it is answered after it, in line) gives up `timeoutMs` after the
   * first of them was sent, but not before a quarter of that since its own: stalls seen again and
   * again while Redis does not answer do not hold stanzas one full timeout each, and one PING sent
   * after a pause longer than the timeout still has the time to be answered.
   */
  #ping(notBefore = Number.NEGATIVE_INFINITY): Promise<void> {
    const flight = this.#inFlight;
    if (flight && flight.sent >= notBefore) return flight.settled;
    const sent = this.#now();
    const unansweredSince = flight ? flight.unansweredSince : sent;
    const deadline = Math.max(unansweredSince + this.#timeoutMs, sent + this.#timeoutMs / 4);
    const generation = this.#generation;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(
        () => {
          resolve();
          this.#gaveUp(generation);
        },
        Math.max(0, deadline - sent),
      );
      timer.unref();
    });
    const answered = this.#channel.ping().then(
      () => {
        // Only on the subscription it was sent on, and only while that one is started.
        if (generation === this.#generation && this.#timer !== undefined) {
          this.#heardUpTo = Math.max(this.#heardUpTo, sent);
          this.#answered();
        }
      },
      () => undefined,
    );
    const ping: Ping = {
      sent,
      unansweredSince,
      settled: Promise.race([answered, gaveUp]).finally(() => {
        clearTimeout(timer);
        if (this.#inFlight === ping) this.#inFlight = undefined;
      }),
    };
    this.#inFlight = ping;
    return ping.settled;
  }

  // A give-up on the running subscription (its timer only fires while its PING is unanswered, and
  // none sent after it can have been answered: in line). Behind even if "heard up to" is not yet
  // older than maxLagMs: a PING unanswered for timeoutMs says the subscriber is late now.
  #gaveUp(generation: number): void {
    if (generation !== this.#generation || this.#timer === undefined || this.#behind) return;
    this.#behind = true;
    this.#onBehind();
  }

  // "Heard up to" a moment ago and since the latest stall (behind or not).
  #heardRecently(): boolean {
    const now = this.#now();
    this.#stalls.sight(now);
    return this.#heardUpTo >= this.#stalls.stalledAt && now - this.#heardUpTo <= this.#maxLagMs;
  }

  #answered(): void {
    if (this.#behind && this.#heardRecently()) {
      this.#behind = false;
      this.#onCaughtUp();
    }
  }
}
