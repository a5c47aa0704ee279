// The web console's side of the admin API (issue 18): who a request is (the admin token, or a
// console session cookie), its login, logout and session routes, and its built assets.
//   POST /console/login    {"token": admin token | one-time login token} or {"user","password"}
//                          → {user, role, csrf} and the session cookie (@cordon/console cookies.ts)
//   POST /console/logout   ends the session
//   GET  /console/session  {user, role, csrf} of the session ({user: null} without one)
//   GET  /console/, /console/assets/*   the page (open: it holds no data)
// Logins are audited (who, how, granted or refused) like every change.
import {
  clearedSessionCookie,
  ConsoleAssets,
  DUMMY_PASSWORD_HASH,
  LoginThrottle,
  OneTimeTokens,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
  SessionStore,
  verifyPassword,
  type Session,
  type Who,
} from "@cordon/console";
import {
  AdminBadRequestError,
  AdminLoginFailedError,
  AdminLoginThrottledError,
  AdminNotFoundError,
} from "../ops-errors.js";
import { bearerToken, tokenMatches } from "./auth.js";
import type { ConsoleUser } from "./config.js";
import { json, type AdminRequest, type AdminRoute } from "./http.js";

/** Who a request is, and the session it came with (cookie) or none (bearer token). */
export interface Authenticated {
  who: Who;
  session: Session | undefined;
}

export interface LoginEvent {
  /** Who logged in, or the name tried (a refused login: the user name, "token" or "one-time"). */
  user: string;
  method: "token" | "one-time" | "password";
  granted: boolean;
  /** Refusals before this one that were not recorded one by one (over the rate recorded). */
  unrecorded?: number;
}

export interface ConsoleAuthOptions {
  /** The admin token (bearer, and a login as admin). */
  token?: string | undefined;
  users?: readonly ConsoleUser[];
  /** Secure cookie over plain HTTP too (a TLS proxy in front). */
  secureCookie?: boolean;
  sessions?: SessionStore;
  oneTime?: OneTimeTokens;
  assets?: ConsoleAssets;
  /** Records a login (granted or refused); a change the audit log cannot record is refused. */
  onLogin?: (event: LoginEvent) => Promise<void>;
  now?: () => number;
}

const TOKEN_WHO: Who = { user: "token", role: "admin" };
const MAX_FIELD = 1024;
/**
 * Refused logins recorded one by one, at most this many a minute; the others are counted and the
 * count goes with the next recorded refusal. Token logins are not throttled, so without this bound
 * anyone who can reach the listener appended an audit record per request, as fast as it could send
 * (found in review, adv16: 2,000 wrong tokens, 2,000 records), growing the log and the disk the
 * fail-closed audit of every component needs.
 */
export const RECORDED_REFUSALS_PER_MINUTE = 20;

export class ConsoleAuth {
  readonly sessions: SessionStore;
  readonly oneTime: OneTimeTokens;
  readonly #assets: ConsoleAssets;
  readonly #throttle: LoginThrottle;
  /** Refusals recorded in the last minute (RECORDED_REFUSALS_PER_MINUTE), and those not recorded since. */
  readonly #recorded: LoginThrottle;
  #unrecorded = 0;
  readonly #options: ConsoleAuthOptions;

  constructor(options: ConsoleAuthOptions = {}) {
    this.#options = options;
    this.sessions = options.sessions ?? new SessionStore();
    this.oneTime = options.oneTime ?? new OneTimeTokens();
    this.#assets = options.assets ?? new ConsoleAssets();
    const now = options.now ?? Date.now;
    this.#throttle = new LoginThrottle({ now });
    this.#recorded = new LoginThrottle({ perMinute: RECORDED_REFUSALS_PER_MINUTE, now });
  }

  /** The admin token (bearer) first, else the session cookie; undefined: neither is valid. */
  authenticate(req: AdminRequest): Authenticated | undefined {
    const token = this.#options.token;
    if (req.authorization !== undefined) {
      return token !== undefined && tokenMatches(token, bearerToken(req.authorization))
        ? { who: TOKEN_WHO, session: undefined }
        : undefined;
    }
    const session = this.sessions.get(readCookie(req.cookie, SESSION_COOKIE));
    return session ? { who: { user: session.user, role: session.role }, session } : undefined;
  }

  #secure(req: AdminRequest): boolean {
    return req.secure === true || this.#options.secureCookie === true;
  }

  async #login(req: AdminRequest): Promise<Who> {
    // Token logins are not throttled (found in review, advconsole: 20 bad password guesses a
    // minute locked everyone out, the admin's token and one-time link included). The throttle is
    // against password guessing; a token is random (≥ 128 bits, or a configured ≥ 16-character
    // secret that the bearer-token API accepts unthrottled anyway), so throttling it protects
    // nothing, and an admin can always get in while passwords are being guessed.
    if (isTokenLogin(req.body)) return await this.#check(req);
    // The try counts as a failure from now until it succeeds (login-throttle.ts): guesses sent at
    // once cannot each pass the check while the others' password checks run.
    // A throttled try is a refused login too: counted, so that the next recorded refusal tells how
    // many came meanwhile (a guesser's rate is not hidden behind the 429s).
    if (!this.#throttle.begin()) {
      this.#unrecorded++;
      throw new AdminLoginThrottledError();
    }
    let granted = false;
    try {
      const who = await this.#check(req);
      granted = true;
      return who;
    } catch (error) {
      // A malformed request is no guess; a refused one stays counted.
      if (error instanceof AdminBadRequestError) granted = true;
      throw error;
    } finally {
      if (granted) this.#throttle.succeeded();
    }
  }

  async #check(req: AdminRequest): Promise<Who> {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(req.body).toString("utf8"));
    } catch {
      throw new AdminBadRequestError('expected JSON: {"token": "…"} or {"user": "…", "password": "…"}');
    }
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const str = (v: unknown) =>
      typeof v === "string" && v.length > 0 && v.length <= MAX_FIELD ? v : undefined;
    const token = str(b.token);
    const user = str(b.user);
    const password = str(b.password);
    if (token !== undefined) {
      const admin = this.#options.token;
      if (admin !== undefined && tokenMatches(admin, token)) return this.#granted(TOKEN_WHO, "token");
      if (this.oneTime.consume(token)) return this.#granted(TOKEN_WHO, "one-time");
      return this.#refused("token", "token");
    }
    if (user !== undefined && password !== undefined) {
      const found = this.#options.users?.find((u) => u.name === user);
      // An unknown name costs a hash check too, so names cannot be told apart by timing.
      const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (found && ok) return this.#granted({ user: found.name, role: found.role }, "password");
      return this.#refused(user.slice(0, 64), "password");
    }
    throw new AdminBadRequestError('expected {"token": "…"} or {"user": "…", "password": "…"}');
  }

  async #granted(who: Who, method: LoginEvent["method"]): Promise<Who> {
    await this.#options.onLogin?.({ user: who.user, method, granted: true });
    return who;
  }

  async #refused(user: string, method: LoginEvent["method"]): Promise<never> {
    if (!this.#recorded.begin()) {
      this.#unrecorded++;
      throw new AdminLoginFailedError();
    }
    const unrecorded = this.#unrecorded;
    this.#unrecorded = 0;
    await this.#options
      .onLogin?.({ user, method, granted: false, ...(unrecorded > 0 ? { unrecorded } : {}) })
      .catch(() => undefined);
    throw new AdminLoginFailedError();
  }

  /** The console's routes: login (open), logout, session, and the assets (open). */
  routes(): AdminRoute[] {
    return [
      {
        pattern: /^\/console\/login$/u,
        open: true,
        methods: {
          POST: async (req) => {
            const who = await this.#login(req);
            // A new session id at every login (no fixation); an old cookie's session ends.
            this.sessions.remove(readCookie(req.cookie, SESSION_COOKIE));
            const session = this.sessions.create(who.user, who.role);
            return json(
              200,
              { user: session.user, role: session.role, csrf: session.csrf },
              { "set-cookie": sessionCookie(session.id, this.#secure(req)) },
            );
          },
        },
      },
      {
        pattern: /^\/console\/logout$/u,
        anyRole: true,
        methods: {
          POST: async (req) => {
            this.sessions.remove(readCookie(req.cookie, SESSION_COOKIE));
            return json(200, { loggedOut: true }, { "set-cookie": clearedSessionCookie(this.#secure(req)) });
          },
        },
      },
      {
        // Open, so that the page's first question ("am I logged in?") is not an error in the
        // browser's console: without a session the answer is {"user": null}.
        pattern: /^\/console\/session$/u,
        open: true,
        methods: {
          GET: async (req) => {
            const auth = this.authenticate(req);
            if (!auth) return json(200, { user: null });
            return json(200, { user: auth.who.user, role: auth.who.role, csrf: auth.session?.csrf ?? "" });
          },
        },
      },
      {
        pattern: /^\/console(?:\/.*)?$/u,
        open: true,
        methods: {
          GET: async (_req, m) => {
            const asset = this.#assets.lookup(m[0]);
            if (!asset)
              throw new AdminNotFoundError(
                this.#assets.available ? "that console file" : "the console (not built)",
              );
            return {
              status: 200,
              contentType: asset.contentType,
              body: asset.body,
              headers: { "cache-control": "no-cache", etag: asset.etag },
            };
          },
        },
      },
    ];
  }
}

/** Whether a login body asks with a token (admin or one-time) rather than a user and password. */
function isTokenLogin(body: Uint8Array): boolean {
  try {
    const parsed = JSON.parse(Buffer.from(body).toString("utf8")) as unknown;
    return (
      typeof parsed === "object" &&
      parsed !== null &&
      typeof (parsed as { token?: unknown }).token === "string"
    );
  } catch {
    return false;
  }
}
