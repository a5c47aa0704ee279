// The session cookie (RFC 6265 §4.1): HttpOnly (no script reads it), SameSite=Strict (a browser
// never sends it on a request another site starts), Path=/ (the API's paths), Secure when the
// console is reached over TLS (then the browser never sends it over plain HTTP). No Max-Age: it
// ends with the browser; the server ends it earlier (sessions.ts).
export const SESSION_COOKIE = "cordon_session";

/** The value of one cookie in a Cookie header (the first, when repeated). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/u.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/${secure ? "; Secure" : ""}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? "; Secure" : ""}`;
}
