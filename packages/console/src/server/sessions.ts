// Console sessions: an opaque random id in an HttpOnly cookie (cookies.ts) maps to who logged in,
// the session's CSRF token (csrf.ts) and its times. Bounded three ways (fail closed, no growth with
// what clients send): a number of sessions, an estimate of their bytes, and time (idle and
// absolute expiry). Past a bound the least recently used session is dropped (its user logs in again);
// one user holds at most a few, so that nobody's logins push out the others' sessions.
import { randomBytes } from "node:crypto";
import type { Role, Who } from "./roles.js";

export interface Session extends Who {
  readonly id: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** Most sessions at once (default 256). */
  maxSessions?: number;
  /** Most bytes the sessions may hold, Cordon's estimate (default 256 KiB). */
  maxBytes?: number;
  /** A session unused this long ends (default 30 minutes). */
  idleMs?: number;
  /** A session ends this long after login whatever its use (default 12 hours). */
  absoluteMs?: number;
  /** Most sessions of one user at once (default 8): past it, that user's least recently used ends. */
  maxPerUser?: number;
  now?: () => number;
}

/** Two bytes a character of each string kept, plus a fixed overhead per entry. */
const OVERHEAD = 160;
const sizeOf = (s: Session) =>
  OVERHEAD + 2 * (s.id.length * 2 + s.csrf.length + s.user.length + s.role.length);

/** Cryptographically random, URL- and cookie-safe: 256 bits. */
export const randomToken = (): string => randomBytes(32).toString("base64url");

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #maxSessions: number;
  readonly #maxBytes: number;
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #maxPerUser: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(limits: SessionLimits = {}) {
    this.#maxSessions = limits.maxSessions ?? 256;
    this.#maxBytes = limits.maxBytes ?? 256 * 1024;
    this.#idleMs = limits.idleMs ?? 30 * 60_000;
    this.#absoluteMs = limits.absoluteMs ?? 12 * 3_600_000;
    this.#maxPerUser = limits.maxPerUser ?? 8;
    this.#now = limits.now ?? Date.now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A new session for `user` (its id goes in the cookie, its csrf to the page). */
  create(user: string, role: Role): Session {
    const now = this.#now();
    const session: Session = {
      id: randomToken(),
      csrf: randomToken(),
      user,
      role,
      createdAt: now,
      lastSeenAt: now,
    };
    // One user's logins end that user's oldest sessions, never another's (found in review,
    // advconsole: a viewer logging in 256 times pushed every admin's session out of the store).
    const own = [...this.#sessions.values()].filter((s) => s.user === user);
    for (const s of own.slice(0, Math.max(0, own.length + 1 - this.#maxPerUser))) this.remove(s.id);
    this.#sessions.set(session.id, session);
    this.#bytes += sizeOf(session);
    this.#evict();
    return session;
  }

  /** The live session of an id (and marks it used), or undefined: unknown, idle or too old. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const now = this.#now();
    if (now - session.lastSeenAt > this.#idleMs || now - session.createdAt > this.#absoluteMs) {
      this.remove(id);
      return undefined;
    }
    session.lastSeenAt = now;
    // Most recently used last: eviction takes from the front.
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  remove(id: string | undefined): boolean {
    if (id === undefined) return false;
    const session = this.#sessions.get(id);
    if (!session) return false;
    this.#sessions.delete(id);
    this.#bytes -= sizeOf(session);
    return true;
  }

  /** Ends every session of a user (e.g. after its role changed). */
  removeUser(user: string): void {
    for (const s of [...this.#sessions.values()]) if (s.user === user) this.remove(s.id);
  }

  #evict(): void {
    const now = this.#now();
    for (const s of [...this.#sessions.values()])
      if (now - s.lastSeenAt > this.#idleMs || now - s.createdAt > this.#absoluteMs) this.remove(s.id);
    while (this.#sessions.size > this.#maxSessions || this.#bytes > this.#maxBytes) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }
}
