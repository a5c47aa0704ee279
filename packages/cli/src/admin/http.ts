// The admin API's request and answer shapes, and the route table entry each area's routes file
// (routes/*.ts) exports. JSON everywhere but /metrics and the console's assets; errors are
// `{"error": {"code": "CORDON_…", "message": "…"}}` with the status of their class (ops-errors.ts).
import type { Who } from "@cordon/console";
import { AdminMethodNotAllowedError, AdminUnauthorizedError, CordonOpsError } from "../ops-errors.js";

export type { Who } from "@cordon/console";

export interface AdminRequest {
  method: string;
  /** Path and query, as in the request line. */
  url: string;
  authorization?: string | undefined;
  /** The Host, Origin and Content-Type headers (guard.ts). */
  host?: string | undefined;
  origin?: string | undefined;
  contentType?: string | undefined;
  /** The Cookie header (the console's session) and the console's CSRF header (x-cordon-csrf). */
  cookie?: string | undefined;
  csrf?: string | undefined;
  /** True when the request came over TLS (the session cookie is then Secure). */
  secure?: boolean | undefined;
  body: Uint8Array;
}

/** A request as a route sees it: who made it (the admin token's "token", or a console user). */
export interface RoutedRequest extends AdminRequest {
  who: Who;
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

export type Route = (
  req: RoutedRequest,
  match: RegExpExecArray,
  query: URLSearchParams,
) => Promise<AdminResponse>;

export interface AdminRoute {
  pattern: RegExp;
  methods: Record<string, Route>;
  /** Answers without authentication (/health, the console's login and assets). */
  open?: boolean;
  /** Changes nothing of Cordon (the console's logout): every role may POST to it. */
  anyRole?: boolean;
}

export const json = (status: number, value: unknown, headers?: Record<string, string>): AdminResponse => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: `${JSON.stringify(value)}\n`,
  ...(headers ? { headers } : {}),
});

export function errorResponse(error: unknown): AdminResponse {
  if (error instanceof CordonOpsError) {
    const r = json(error.status, { error: { code: error.code, message: error.message } });
    if (error instanceof AdminMethodNotAllowedError) r.headers = { allow: error.allow.join(", ") };
    if (error instanceof AdminUnauthorizedError) r.headers = { "www-authenticate": 'Bearer realm="cordon"' };
    return r;
  }
  const code = (error as { code?: unknown }).code;
  if (code === "CORDON_STORE_INVALID_JID" || code === "CORDON_STORE_INVALID_VALUE") {
    return json(400, { error: { code, message: (error as Error).message } });
  }
  // NOT_DURABLE: applied on the primary, not confirmed by a replica (packages/store durable-write.ts).
  if (
    code === "CORDON_STORE_UNAVAILABLE" ||
    code === "CORDON_STORE_CLOSED" ||
    code === "CORDON_STORE_NOT_DURABLE"
  ) {
    return json(503, { error: { code, message: (error as Error).message } });
  }
  return json(500, { error: { code: "CORDON_ADMIN_INTERNAL", message: "internal error (see the log)" } });
}
