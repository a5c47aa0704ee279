// The console's one way to the admin API: same-origin fetch with the session cookie, the session's
// CSRF token in `x-cordon-csrf` on every non-GET, and the API's `{"error":{code,message}}` turned
// into an ApiError. Pages never call fetch themselves.

import { CordonError, type CordonErrorCode } from "@cordon/errors";

/**
 * An API answer that is not a success: `code` is the API's CORDON_* code (docs/errors.md), or
 * CORDON_CONSOLE_UNREACHABLE (no answer) or CORDON_CONSOLE_BAD_ANSWER (an answer without the API's
 * error body, e.g. a proxy's page).
 */
export class ApiError extends CordonError {
  readonly status: number;
  constructor(status: number, code: CordonErrorCode, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** What a failed call threw, as an ApiError (anything else: CORDON_CONSOLE_BAD_ANSWER). */
export function toError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CORDON_CONSOLE_BAD_ANSWER", String(e));
}

export const CSRF_HEADER = "x-cordon-csrf";

let csrfToken: string | undefined;
const unauthorizedListeners = new Set<() => void>();

/** Set by the session code after login (and cleared at logout). */
export function setCsrf(token: string | undefined): void {
  csrfToken = token;
}

/** Called when an API answer says the session has ended (401), so the app shows the login page. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  let payload: BodyInit | undefined;
  if (method !== "GET" && method !== "HEAD") {
    if (csrfToken !== undefined) headers[CSRF_HEADER] = csrfToken;
    headers["content-type"] = contentType;
    if (body === undefined) payload = contentType === "application/json" ? "{}" : "";
    else if (typeof body === "string" || body instanceof Blob || body instanceof ArrayBuffer) payload = body;
    else if (body instanceof Uint8Array) payload = new Blob([body.slice()]);
    else payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload ?? null, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "CORDON_CONSOLE_UNREACHABLE", "Cordon did not answer (is it running?)");
  }
  const text = await response.text();
  let value: unknown = undefined;
  if ((response.headers.get("content-type") ?? "").startsWith("application/json") && text !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
  }
  if (!response.ok) {
    const error = (value as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const known = typeof error?.code === "string" && error.code.startsWith("CORDON_");
    const code = known ? (error.code as CordonErrorCode) : "CORDON_CONSOLE_BAD_ANSWER";
    const message =
      typeof error?.message === "string" ? error.message : `HTTP ${response.status} ${response.statusText}`;
    if (response.status === 401) for (const l of unauthorizedListeners) l();
    throw new ApiError(response.status, code, message);
  }
  return (value ?? text) as T;
}

export const api = {
  /** GET a JSON resource. */
  get<T>(path: string): Promise<T> {
    return request<T>("GET", path);
  },
  /** A change: POST/PUT/DELETE with a JSON body (an object), or a string/bytes of `contentType`. */
  send<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return request<T>(method, path, body, contentType);
  },
};

/** `encodeURIComponent` for a path segment (JIDs, domains). */
export const seg = (value: string): string => encodeURIComponent(value);
