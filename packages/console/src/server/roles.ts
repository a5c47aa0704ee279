// Roles of the web console (issue 18): a `viewer` reads everything and changes nothing; an `admin`
// may change. The admin token (bearer or the login it allows) is always `admin`. The one place that
// says which role may make a state change: the admin handler asks `mayChange` before every
// non-GET request it routes.
export const ROLES = ["viewer", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request, as handed to every route and written into the audit log. */
export interface Who {
  /** A console user's name, or "token" for the admin token. */
  user: string;
  role: Role;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** GET and HEAD read; everything else changes something, and only an admin may. */
export function mayChange(who: Who, method: string): boolean {
  return method === "GET" || method === "HEAD" || who.role === "admin";
}
