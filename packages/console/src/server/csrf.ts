// CSRF protection of cookie-authenticated changes: a request that authenticates with the session
// cookie and is not GET/HEAD must carry the session's CSRF token in `x-cordon-csrf`. A page of
// another site can neither read the token nor set a custom header without a CORS preflight, which
// the API never grants (OWASP CSRF cheat sheet: synchronizer token + custom request header). The
// SameSite=Strict cookie (cookies.ts) and the Origin check (cli admin/guard.ts) are further layers.
import { createHash, timingSafeEqual } from "node:crypto";

export const CSRF_HEADER = "x-cordon-csrf";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** True when the request needs no token (a read) or carries the session's. */
export function csrfSatisfied(method: string, expected: string, given: string | undefined): boolean {
  if (method === "GET" || method === "HEAD") return true;
  if (given === undefined || given.length === 0) return false;
  return timingSafeEqual(digest(expected), digest(given));
}
