// Failed console logins are rate limited (password guessing): at most `perMinute` failures in any
// minute for the whole listener (a fixed-size window, no per-client state to grow); past that every
// login answers 429 until the minute has passed, right password or not.
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

  fail(): void {
    this.#prune();
    if (this.#failures.length < this.#perMinute) this.#failures.push(this.#now());
  }
}
