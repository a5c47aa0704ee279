// The console session as the page knows it: who is logged in, with which role, and the CSRF token
// api.ts sends. The session itself is an HttpOnly cookie the page never sees.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { api, setCsrf } from "./api";

export type Role = "viewer" | "admin";

export interface Session {
  user: string;
  role: Role;
  csrf: string;
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** The logged-in session (pages are only shown with one). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a session");
  return session;
}

/** True when the session may change things (an admin). Pages hide or disable change controls otherwise. */
export function useCanChange(): boolean {
  return useContext(SessionContext)?.role === "admin";
}

/** The current session, or undefined when not logged in. */
export async function loadSession(): Promise<Session | undefined> {
  const s = await api.get<Session | { user: null }>("/console/session");
  if (s.user === null) return undefined;
  setCsrf(s.csrf);
  return s;
}

export type Credentials = { token: string } | { user: string; password: string };

export async function login(credentials: Credentials): Promise<Session> {
  const s = await api.send<Session>("POST", "/console/login", credentials);
  setCsrf(s.csrf);
  return s;
}

export async function logout(): Promise<void> {
  try {
    await api.send("POST", "/console/logout");
  } finally {
    setCsrf(undefined);
  }
}

/**
 * A one-time login token from the address (`#token=…`, printed by `cordon start`), removed from
 * the address bar and the history entry at once, whether or not it works.
 */
export function takeTokenFromUrl(): string | undefined {
  const m = /^#token=([A-Za-z0-9_-]{16,128})$/u.exec(window.location.hash);
  if (!m && !window.location.hash.startsWith("#token=")) return undefined;
  window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}#/`);
  // replaceState fires no hashchange: tell the router.
  window.dispatchEvent(new HashChangeEvent("hashchange"));
  return m?.[1];
}
