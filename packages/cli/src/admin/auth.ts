// Bearer-token check of the admin API (RFC 6750 §2.1 `Authorization: Bearer TOKEN`). Both sides
// are hashed to a fixed length first so the comparison is constant-time whatever the lengths.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/iu.exec(header);
  return m?.[1];
}

/** True when `given` is the expected token. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}
