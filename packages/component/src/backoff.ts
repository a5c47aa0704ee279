// Reconnect delays: exponential backoff with full jitter, capped
// (AWS architecture blog "Exponential Backoff And Jitter").

export interface BackoffOptions {
  /** First delay ceiling in ms (default 250). */
  initialMs?: number;
  /** Largest delay in ms (default 30000). */
  maxMs?: number;
  /** Source of randomness in [0, 1) (tests inject a fixed one). */
  random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call moves to the next attempt. */
  next(): number;
  /** After a success. */
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  let attempts = 0;
  return {
    next() {
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempts, 30));
      attempts += 1;
      // Full jitter, but never below a tenth of the ceiling so a storm of failures still spaces out.
      return Math.round(ceiling * (0.1 + 0.9 * random()));
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
