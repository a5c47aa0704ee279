// Event-loop stalls seen from inside the loop. While this process does not run its loop (SIGSTOP,
// a frozen VM, a long synchronous task, a long GC pause) nothing is read: a change notification
// and the stanzas sent after it both wait in their sockets, and once the loop runs again which one
// is read first is up to the kernel. So a stall of any length must make the store require a PING
// sent after it (notification-barrier.ts), not only one longer than `maxLagMs` (adversarial review
// adv12b: a 600 ms SIGSTOP decided the old clearance 7 times in 8).
//
// The loop is "sighted" by an unref'd timer every `tickMs` and at every check (a stanza received,
// a cached answer about to be reused). A gap between two sightings longer than `thresholdMs` was a
// stall; its sighting time is `stalledAt`. Both places are needed: after a SIGSTOP, Node runs the
// poll phase (the stanza socket) before timers, so the check at receipt finds the gap; after a
// stall inside one callback the next loop turn runs the timer first, which finds it (and the
// stanza read after it in that turn sees `stalledAt`). A sighting also counts as a tick, so the
// stanzas after the first in one burst find no new gap. Steady state: one clock read per check.
// Left: a stall shorter than `thresholdMs` (plus up to one tick) goes unseen.
export interface StallWatchOptions {
  /** A gap longer than this between two sightings of the loop is a stall (default 50 ms). */
  readonly thresholdMs?: number;
  /** How often the timer sights the loop (default 2/5 of thresholdMs). */
  readonly tickMs?: number;
  readonly now?: () => number;
  /** Called when the timer found a stall (e.g. to send a PING at once). */
  readonly onStall?: (at: number) => void;
}

export class StallWatch {
  readonly #thresholdMs: number;
  readonly #tickMs: number;
  readonly #now: () => number;
  readonly #onStall: (at: number) => void;
  #lastSeen = Number.NEGATIVE_INFINITY;
  #stalledAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StallWatchOptions = {}) {
    this.#thresholdMs = options.thresholdMs ?? 50;
    if (!(this.#thresholdMs > 0)) throw new RangeError("thresholdMs must be > 0");
    this.#tickMs = Math.max(1, Math.floor(options.tickMs ?? (this.#thresholdMs * 2) / 5));
    if (this.#tickMs >= this.#thresholdMs) throw new RangeError("tickMs must be below thresholdMs");
    this.#now = options.now ?? (() => performance.now());
    this.#onStall = options.onStall ?? (() => undefined);
  }

  /** When the latest stall was seen (−∞: none since this watch was made). */
  get stalledAt(): number {
    return this.#stalledAt;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** The loop runs at `now`: true when it had not been seen for longer than the threshold. Nothing while stopped. */
  sight(now: number = this.#now()): boolean {
    if (this.#timer === undefined) return false;
    const stalled = now - this.#lastSeen > this.#thresholdMs;
    if (stalled) this.#stalledAt = now;
    this.#lastSeen = now;
    return stalled;
  }

  /** What the timer does (public for tests with a clock of their own). */
  tick(): void {
    const now = this.#now();
    if (this.sight(now)) this.#onStall(now);
  }

  start(): void {
    if (this.#timer) return;
    this.#lastSeen = this.#now();
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
