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
export interface BarrierOptions {
  /** How old "heard up to" may be before stanzas wait for a fresh PING (default 1000 ms). */
  readonly maxLagMs?: number;
  /** A PING not answered within this gives up: held stanzas go on, and the store is not current. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** The subscriber connection: its PING, answered in line with its messages. */
export interface PingChannel {
  ping(): Promise<unknown>;
}

export class NotificationBarrier {
  readonly #channel: PingChannel;
  readonly #maxLagMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** When the newest answered PING was sent: every notification published before it was heard. */
  #heardUpTo = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped at each start and stop: an answer to a PING of an earlier subscription counts for nothing. */
  #generation = 0;

  constructor(channel: PingChannel, options: BarrierOptions = {}) {
    this.#channel = channel;
    this.#maxLagMs = options.maxLagMs ?? 1000;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether every notification published until `maxLagMs` ago has been heard. */
  get current(): boolean {
    return this.#now() - this.#heardUpTo <= this.#maxLagMs;
  }

  /**
   * Undefined when current; else a promise that settles (never rejects) once a PING answered or
   * gave up. Also undefined while stopped: the subscriber is known lost, the store has said "down"
   * and its outage rules decide (clearances unknown: fail closed) — holding stanzas then would only
   * delay their refusals by a command timeout each (seen under a Sentinel failover).
   */
  heard(): Promise<void> | undefined {
    return this.current || this.#timer === undefined ? undefined : this.#ping();
  }

  /** Starts the periodic PING (the subscription is in place). */
  start(): void {
    if (this.#timer) return;
    this.#generation++;
    this.#inFlight = undefined;
    this.#timer = setInterval(() => void this.#ping(), Math.max(1, Math.floor(this.#maxLagMs / 4)));
    this.#timer.unref();
    void this.#ping();
  }

  /** The subscriber is down or closed: nothing is heard until a PING answers on the next one. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#generation++;
    this.#heardUpTo = Number.NEGATIVE_INFINITY;
  }

  #ping(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    const sent = this.#now();
    const generation = this.#generation;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs);
      timer.unref();
    });
    const answered = this.#channel.ping().then(
      () => {
        // Only on the subscription it was sent on, and only while that one is started.
        if (generation === this.#generation && this.#timer !== undefined)
          this.#heardUpTo = Math.max(this.#heardUpTo, sent);
      },
      () => undefined,
    );
    const settled = Promise.race([answered, gaveUp]).finally(() => {
      clearTimeout(timer);
      if (this.#inFlight === settled) this.#inFlight = undefined;
    });
    this.#inFlight = settled;
    return settled;
  }
}
