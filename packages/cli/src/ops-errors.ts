// Errors of the operator surface (admin API, hot reload, check-config): one class per condition,
// each with a stable `code` and, for the admin API, the HTTP status it maps to (every code is
// listed in docs/errors.md).
import { CordonError, type CordonErrorCode } from "@cordon/errors";

/** Base of the operator surface's errors: a code and the HTTP status the admin API answers with. */
export abstract class CordonOpsError extends CordonError {
  readonly status: number;
  constructor(code: CordonErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** Missing or wrong bearer token (RFC 6750 §3.1 `invalid_token`). */
export class AdminUnauthorizedError extends CordonOpsError {
  constructor() {
    super("CORDON_ADMIN_UNAUTHORIZED", 401, "a valid bearer token is required");
  }
}

/** The Host header names something else than this API (what a DNS-rebinding page sends). */
export class AdminHostRefusedError extends CordonOpsError {
  constructor() {
    super(
      "CORDON_ADMIN_HOST_REFUSED",
      403,
      "the Host header is not this API's address (an IP literal, localhost or admin.hosts)",
    );
  }
}

/** An Origin header that is not the API's own (a cross-site request from a web page). */
export class AdminCrossOriginError extends CordonOpsError {
  constructor() {
    super("CORDON_ADMIN_CROSS_ORIGIN", 403, "cross-origin requests are refused");
  }
}

/** A state-changing request without a JSON, XML or octet-stream body type (text/plain, forms). */
export class AdminUnsupportedMediaTypeError extends CordonOpsError {
  constructor() {
    super(
      "CORDON_ADMIN_UNSUPPORTED_MEDIA_TYPE",
      415,
      "state-changing requests need Content-Type application/json, application/xml or application/octet-stream",
    );
  }
}

/**
 * A change made with the console's session cookie without the session's CSRF token in
 * `x-cordon-csrf` (what a cross-site form or script sends; @cordon/console csrf.ts).
 */
export class AdminCsrfError extends CordonOpsError {
  constructor() {
    super("CORDON_ADMIN_CSRF", 403, "a change with a session needs the session's x-cordon-csrf header");
  }
}

/** A viewer asked for a change: only an admin may change anything (@cordon/console roles.ts). */
export class AdminForbiddenError extends CordonOpsError {
  constructor() {
    super("CORDON_ADMIN_FORBIDDEN", 403, "this role may look but not change anything");
  }
}

/** A console login with a wrong, spent or expired token, or a wrong user name or password. */
export class AdminLoginFailedError extends CordonOpsError {
  constructor() {
    super(
      "CORDON_ADMIN_LOGIN_FAILED",
      401,
      "login failed: wrong token, user or password (or a used login link)",
    );
  }
}

/** Too many failed console logins in the last minute: every login waits. */
export class AdminLoginThrottledError extends CordonOpsError {
  constructor() {
    super("CORDON_ADMIN_LOGIN_THROTTLED", 429, "too many failed logins: try again in a minute");
  }
}

export class AdminNotFoundError extends CordonOpsError {
  constructor(what: string) {
    super("CORDON_ADMIN_NOT_FOUND", 404, `${what}: no such resource`);
  }
}

export class AdminMethodNotAllowedError extends CordonOpsError {
  readonly allow: readonly string[];
  constructor(method: string, allow: readonly string[]) {
    super(
      "CORDON_ADMIN_METHOD_NOT_ALLOWED",
      405,
      `${method} is not allowed here (allowed: ${allow.join(", ")})`,
    );
    this.allow = allow;
  }
}

export class AdminBadRequestError extends CordonOpsError {
  constructor(message: string) {
    super("CORDON_ADMIN_BAD_REQUEST", 400, message);
  }
}

/** The listener holds as many request bodies as it may at once (bounded buffers): try again shortly. */
export class AdminBusyError extends CordonOpsError {
  constructor() {
    super("CORDON_ADMIN_BUSY", 503, "too many request bodies being received at once: try again shortly");
  }
}

export class AdminBodyTooLargeError extends CordonOpsError {
  constructor(limit: number) {
    super("CORDON_ADMIN_BODY_TOO_LARGE", 413, `request body larger than ${limit} bytes`);
  }
}

/** The operation needs a component this process does not run (e.g. /rooms without the MUC). */
export class AdminNotRunningError extends CordonOpsError {
  constructor(what: string) {
    super("CORDON_ADMIN_NOT_RUNNING", 404, `${what} is not running in this process`);
  }
}

/** The clearance store did not answer. */
export class AdminStoreUnavailableError extends CordonOpsError {
  constructor(message: string) {
    super("CORDON_ADMIN_STORE_UNAVAILABLE", 503, `the clearance store is unavailable: ${message}`);
  }
}

/** A policy reload was refused: the old policies stay in force. */
export class PolicyReloadError extends CordonOpsError {
  readonly file: string | undefined;
  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super("CORDON_POLICY_RELOAD_REJECTED", 422, message, options);
    this.file = file;
  }
}

/**
 * An uploaded SPIF was refused before it replaced anything (it does not load, or no configured
 * policy file holds a policy with its id): the old policies stay in force.
 */
export class PolicyUploadError extends CordonOpsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CORDON_POLICY_UPLOAD_REJECTED", 422, message, options);
  }
}

/** A bulk clearance import with rows that do not read: nothing was written (the rows say why). */
/** A bulk import the store failed part-way: the rows before the failure are written (and recorded). */
export class AdminImportPartialError extends CordonOpsError {
  constructor(written: number, rows: number) {
    super(
      "CORDON_ADMIN_IMPORT_PARTIAL",
      503,
      `the clearance store failed during the import: ${written} of ${rows} row(s) were written and are in force (each is in the audit log), the others were not`,
    );
  }
}

export class AdminImportRefusedError extends CordonOpsError {
  constructor(problems: number) {
    super(
      "CORDON_ADMIN_IMPORT_REFUSED",
      422,
      `${problems} row(s) of the import do not read: nothing was written`,
    );
  }
}

/** The catalog service refused to compute a catalog for that requester and target (its stanza error). */
export class AdminCatalogRefusedError extends CordonOpsError {
  constructor(condition: string) {
    super("CORDON_ADMIN_CATALOG_REFUSED", 422, `the catalog service refuses this request (${condition})`);
  }
}

/** The admin API's address or token settings are unsafe or malformed. */
export class AdminConfigError extends CordonOpsError {
  constructor(key: string, message: string) {
    super("CORDON_ADMIN_CONFIG", 500, `${key}: ${message}`);
  }
}

/**
 * A console login while the process keeps no audit log (no top-level `audit:`): the console is
 * for people, and every change a person makes there must be recorded with who made it (issue 18),
 * so without a log nobody logs in. The bearer-token API (scripts, `cordon admin`) is unaffected.
 */
export class ConsoleUnauditedError extends CordonOpsError {
  constructor() {
    super(
      "CORDON_CONSOLE_UNAUDITED",
      503,
      "the web console needs the process audit log (a top-level `audit:` section) to record who changes what",
    );
  }
}

/** An audit key that cannot be read or is too short. */
export class AuditKeyError extends CordonOpsError {
  constructor(file: string, problem: string) {
    super("CORDON_AUDIT_KEY", 500, `audit key ${file}: ${problem}`);
  }
}

/**
 * The process audit log has failed (a write or sync did not succeed): what it should record — a
 * MUC or catalog decision, an admin change — does not happen (fail closed, as the relay drops
 * everything once its log fails).
 */
export class AuditUnavailableError extends CordonOpsError {
  constructor(cause: unknown) {
    super(
      "CORDON_AUDIT_UNAVAILABLE",
      503,
      `the audit log cannot be written (${cause instanceof Error ? cause.message : String(cause)}): nothing it must record is done until Cordon is restarted with a writable log`,
      { cause },
    );
  }
}
