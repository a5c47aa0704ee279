// Request checks of the admin API besides the token (issue 16 item 12), against what a web page in
// the operator's browser can make it send:
// - DNS rebinding: the page's own name resolves to 127.0.0.1, so its requests reach the API with
//   `Host: rebind.attacker.example`. Only the names the API answers to are accepted in Host
//   (RFC 9110 §7.2): IP literals and `localhost` (a rebinding page never has one of those as its
//   name) and the configured `admin.hosts`. The port is not compared: the name is what a rebinding
//   page cannot fake, and a port mapping (Docker, a proxy) changes the port legitimately.
// - Cross-site requests: a page may send "simple" requests (Fetch standard §CORS-safelisted request
//   header: text/plain, form encodings) without asking first. A request whose Origin (RFC 6454 §7)
//   is not the API's own is refused, and state-changing methods require a content type no page
//   can send without a CORS preflight (which the API never grants): JSON, XML or octet-stream.
import { isIP } from "node:net";

export interface HostPort {
  host: string;
  port: number;
}

/** Parses a Host header (`name`, `name:port`, `[v6]:port`); the port defaults to 80. */
export function parseHostHeader(value: string | undefined): HostPort | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/@]+))(?::(\d{1,5}))?$/u.exec(value.trim());
  if (!m) return undefined;
  const host = (m[1] ?? m[2] ?? "").toLowerCase().replace(/\.$/u, "");
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  const port = m[3] !== undefined ? Number(m[3]) : 80;
  return port <= 65535 ? { host, port } : undefined;
}

/** True when Host names this API: an IP literal, localhost or a configured name. */
export function hostAllowed(value: string | undefined, names: readonly string[]): boolean {
  const parsed = parseHostHeader(value);
  if (!parsed) return false;
  return isIP(parsed.host) !== 0 || parsed.host === "localhost" || names.includes(parsed.host);
}

/** True when there is no Origin (not a browser's cross-site request) or it is the Host's own origin. */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  const own = parseHostHeader(host);
  if (!own) return false;
  let url: URL;
  try {
    url = new URL(origin); // "null" (opaque origins: sandboxed frames, file:) does not parse: refused
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const name = url.hostname.replace(/^\[|\]$/gu, "").toLowerCase();
  return name === own.host && port === own.port;
}

export const STATE_CHANGING = new Set(["POST", "PUT", "DELETE", "PATCH"]);
/** Media types a state-changing request may carry: none is CORS-safelisted. */
export const ACCEPTED_TYPES = ["application/json", "application/xml", "application/octet-stream"] as const;

export function contentTypeAllowed(value: string | undefined): boolean {
  const type = value?.split(";")[0]?.trim().toLowerCase();
  return type !== undefined && (ACCEPTED_TYPES as readonly string[]).includes(type);
}
