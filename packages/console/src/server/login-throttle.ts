// Failed console password logins are rate limited (password guessing; token logins are not —
// packages/cli/src/admin/console.ts): at most `perMinute` failures in any
// minute for the whole listener (a fixed-size window, no per-client state to grow); past that every
// login answers 429 until the minute has passed, right password or not.
// A try counts as a failure from the moment it starts (`begin`) until it is known to have
// succeeded (`succeeded`): a password check takes tens of milliseconds (scrypt), and guesses sent
// all at once would otherwise each pass the check before any of them had failed (found in review,
// advconsole: 60 concurrent guesses were all checked under a limit of 20 a minute).
export class LoginThrottle {
  readonly #failures: number[] = [];
  readonly #perMinute: number;
  readonly #now: () => number;

  constructor(options: { perMinute?: number; now?: () => number } = {}) {
    this.#perMinute = options.perMinute ?? 20;
    this.#now = options.now ?? Date.now;
  }

  #prune(): void {
    const since = this.#now() - 60_000;
    while (this.#failures.length > 0 && this.#failures[0]! < since) this.#failures.shift();
  }

  /** True when logins are refused for now. */
  get blocked(): boolean {
    this.#prune();
    return this.#failures.length >= this.#perMinute;
  }

  /**
   * Starts a try: false when logins are refused for now; else the try is counted as a failure
   * until `succeeded` takes it back.
   */
  begin(): boolean {
    this.#prune();
    if (this.#failures.length >= this.#perMinute) return false;
    this.#failures.push(this.#now());
    return true;
  }

  /** A try begun here succeeded (or was not a guess): it no longer counts. */
  succeeded(): void {
    this.#failures.pop();
  }

  fail(): void {
    this.#prune();
    if (this.#failures.length < this.#perMinute) this.#failures.push(this.#now());
  }
}
