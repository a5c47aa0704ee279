// One-time login tokens: `cordon start` prints the console's URL with one (`#token=…`, a fragment,
// so it is never sent in a request line or a Referer); it logs in as admin once, within 10 minutes.
// At most a few are outstanding (the oldest is dropped); comparison is constant-time.
import { createHash, timingSafeEqual } from "node:crypto";
import { randomToken } from "./sessions.js";

export const ONE_TIME_TTL_MS = 10 * 60_000;
const MAX_OUTSTANDING = 8;

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export class OneTimeTokens {
  readonly #tokens: { hash: Buffer; expiresAt: number }[] = [];
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? ONE_TIME_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A new token, valid once within the TTL. */
  issue(): string {
    const token = randomToken();
    this.#tokens.push({ hash: digest(token), expiresAt: this.#now() + this.#ttlMs });
    while (this.#tokens.length > MAX_OUTSTANDING) this.#tokens.shift();
    return token;
  }

  /** True once for a token issued here and not expired; the token is spent either way. */
  consume(token: string): boolean {
    const given = digest(token);
    const now = this.#now();
    let found = false;
    for (let i = this.#tokens.length - 1; i >= 0; i--) {
      const t = this.#tokens[i]!;
      const match = timingSafeEqual(t.hash, given);
      if (match || t.expiresAt < now) {
        this.#tokens.splice(i, 1);
        if (match && t.expiresAt >= now) found = true;
      }
    }
    return found;
  }
}
