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
//
// The timer only ticks while checks come (until `activeMs` after the last one): a 20 ms timer
// costs an idle process about 1% of a core in our VM (6.5–10 ms CPU a second, measured), and the
// timer is only there to spare busy processes false stalls. So after a quiet spell longer than the
// threshold the first stanza finds a gap and waits for one PING round trip (safe side: a gap
// that was only quiet is taken for a stall, never the other way round).
// Left: a stall shorter than `thresholdMs` (plus up to one tick) goes unseen.
export interface StallWatchOptions {
  /** A gap longer than this between two sightings of the loop is a stall (default 50 ms). */
  readonly thresholdMs?: number;
  /** How often the timer sights the loop (default 2/5 of thresholdMs). */
  readonly tickMs?: number;
  /** The timer ticks until this long after the last check (default 1000 ms). */
  readonly activeMs?: number;
  readonly now?: () => number;
  /** Called when the timer found a stall (e.g. to send a PING at once). */
  readonly onStall?: (at: number) => void;
}

export class StallWatch {
  readonly #thresholdMs: number;
  readonly #tickMs: number;
  readonly #activeMs: number;
  readonly #now: () => number;
  readonly #onStall: (at: number) => void;
  #lastSeen = Number.NEGATIVE_INFINITY;
  #lastChecked = Number.NEGATIVE_INFINITY;
  #stalledAt = Number.NEGATIVE_INFINITY;
  #running = false;
  /** The next tick, while checks come. */
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StallWatchOptions = {}) {
    this.#thresholdMs = options.thresholdMs ?? 50;
    if (!(this.#thresholdMs > 0)) throw new RangeError("thresholdMs must be > 0");
    this.#tickMs = Math.max(1, Math.floor(options.tickMs ?? (this.#thresholdMs * 2) / 5));
    if (this.#tickMs >= this.#thresholdMs) throw new RangeError("tickMs must be below thresholdMs");
    this.#activeMs = options.activeMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#onStall = options.onStall ?? (() => undefined);
  }

  /** When the latest stall was seen (−∞: none since this watch was made). */
  get stalledAt(): number {
    return this.#stalledAt;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Whether the timer is armed now (it is while checks come). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * A check: the loop runs at `now`. True when it had not been seen for longer than the threshold
   * (a stall, or a quiet spell: the same to us). Nothing while stopped.
   */
  sight(now: number = this.#now()): boolean {
    if (!this.#running) return false;
    this.#lastChecked = now;
    if (this.#timer === undefined) this.#arm();
    return this.#seen(now);
  }

  /** What the timer does (public for tests with a clock of their own). */
  tick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    if (this.#seen(now)) this.#onStall(now);
    if (now - this.#lastChecked <= this.#activeMs) this.#arm();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastSeen = this.#now();
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #seen(now: number): boolean {
    const stalled = now - this.#lastSeen > this.#thresholdMs;
    if (stalled) this.#stalledAt = now;
    this.#lastSeen = now;
    return stalled;
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }
}
