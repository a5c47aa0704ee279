// The admin API as a pure function from a request to a response, over providers that the running
// process (or a test) supplies. JSON everywhere except /metrics; errors are
// `{"error": {"code": "CORDON_…", "message": "…"}}` with the status of their class (ops-errors.ts).
//   GET    /health                 liveness: the process answers
//   GET    /ready                  200 when every XEP-0114 link of every component is online, else 503
//   GET    /rooms …                MUC rooms: list, detail, create, relabel, kick, destroy (routes/rooms.ts)
//   GET    /clearances/{jid}       a user's stored clearance (marking)     ?policy=OID
//   PUT    /clearances/{jid}       set it (body: XML, BER, base64 BER or JSON names) ?policy=OID
//   DELETE /clearances/{jid}       clear it                                  ?policy=OID
//   POST   /policies/reload        re-read every policy file (422 and the old set kept on failure)
//   GET    /peerings, /audit …     relay peerings, audit log browsing and verify (routes/boundary.ts)
//   GET    /metrics                Prometheus text exposition
import { normaliseBareJid } from "@cordon/store";
import type { ReloadSummary } from "../reload.js";
import type { LinkState } from "../metrics/link-book.js";
import {
  AdminMethodNotAllowedError,
  AdminNotFoundError,
  AdminCrossOriginError,
  AdminHostRefusedError,
  AdminNotRunningError,
  AdminUnauthorizedError,
  AdminUnsupportedMediaTypeError,
  CordonOpsError,
} from "../ops-errors.js";
import { bearerToken, tokenMatches } from "./auth.js";
import { contentTypeAllowed, hostAllowed, originAllowed, STATE_CHANGING } from "./guard.js";
import { roomRoutes, type ChangeAudit, type RoomsProvider } from "./routes/rooms.js";
import { boundaryRoutes, type BoundaryProvider } from "./routes/boundary.js";

export interface AdminRequest {
  method: string;
  /** Path and query, as in the request line. */
  url: string;
  authorization?: string | undefined;
  /** The Host, Origin and Content-Type headers (guard.ts). */
  host?: string | undefined;
  origin?: string | undefined;
  contentType?: string | undefined;
  body: Uint8Array;
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export interface ComponentReadiness {
  name: string;
  ready: boolean;
  links: LinkState[];
}

export interface ClearanceAdmin {
  get(jid: string, policy: string | undefined): Promise<{ jid: string; marking: string } | undefined>;
  set(jid: string, body: Uint8Array, policy: string | undefined): Promise<{ jid: string; marking: string }>;
  clear(jid: string, policy: string | undefined): Promise<boolean>;
}

export interface AdminProviders {
  components(): ComponentReadiness[];
  /** The MUC's rooms and operator; undefined when no MUC runs in this process (routes/rooms.ts). */
  rooms?(): RoomsProvider | undefined;
  clearances?: ClearanceAdmin;
  reload?(): Promise<ReloadSummary>;
  /** Relay peerings and the audit logs (routes/boundary.ts). */
  boundary?(): BoundaryProvider | undefined;
  /** Where admin changes are recorded, with who made them (audit-log.ts). */
  changeAudit?: ChangeAudit;
  metrics?(): Promise<{ contentType: string; body: string }>;
}

export interface AdminHandlerOptions {
  /** Required on every endpoint but /health; without one, only /health answers (fail closed). */
  token?: string | undefined;
  /** Names accepted in the Host header besides IP literals and localhost (`admin.hosts`). */
  hosts?: readonly string[];
  startedAt?: number;
}

type Route = (req: AdminRequest, match: RegExpExecArray, query: URLSearchParams) => Promise<AdminResponse>;

const json = (status: number, value: unknown): AdminResponse => ({
  status,
  contentType: "application/json; charset=utf-8",
  body: `${JSON.stringify(value)}\n`,
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
  if (code === "CORDON_STORE_UNAVAILABLE" || code === "CORDON_STORE_CLOSED") {
    return json(503, { error: { code, message: (error as Error).message } });
  }
  return json(500, { error: { code: "CORDON_ADMIN_INTERNAL", message: "internal error (see the log)" } });
}

export function createAdminHandler(
  providers: AdminProviders,
  options: AdminHandlerOptions = {},
): (req: AdminRequest) => Promise<AdminResponse> {
  const startedAt = options.startedAt ?? Date.now();
  const routes: { pattern: RegExp; methods: Record<string, Route>; open?: boolean }[] = [
    {
      pattern: /^\/health$/u,
      open: true,
      methods: {
        GET: async () =>
          json(200, { status: "ok", uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }),
      },
    },
    {
      pattern: /^\/ready$/u,
      methods: {
        GET: async () => {
          const components = providers.components();
          const ready = components.length > 0 && components.every((c) => c.ready);
          return json(ready ? 200 : 503, { ready, components });
        },
      },
    },
    // Rooms and boundary (issue 18): routes/rooms.ts, routes/boundary.ts.
    ...roomRoutes({ rooms: () => providers.rooms?.(), audit: () => providers.changeAudit }),
    ...boundaryRoutes({ boundary: () => providers.boundary?.() }),
    {
      pattern: /^\/clearances\/([^/]+)$/u,
      methods: {
        GET: async (_req, m, q) => {
          const jid = decodeURIComponent(m[1] ?? "");
          const found = await clearances().get(jid, q.get("policy") ?? undefined);
          if (!found) throw new AdminNotFoundError(`clearance of ${jid}`);
          return json(200, found);
        },
        PUT: async (req, m, q) =>
          json(
            200,
            await clearances().set(decodeURIComponent(m[1] ?? ""), req.body, q.get("policy") ?? undefined),
          ),
        DELETE: async (_req, m, q) => {
          const jid = decodeURIComponent(m[1] ?? "");
          if (!(await clearances().clear(jid, q.get("policy") ?? undefined)))
            throw new AdminNotFoundError(`clearance of ${jid}`);
          return json(200, { jid: normaliseBareJid(jid), removed: true });
        },
      },
    },
    {
      pattern: /^\/policies\/reload$/u,
      methods: {
        POST: async () => {
          if (!providers.reload) throw new AdminNotRunningError("policy reload");
          return json(200, await providers.reload());
        },
      },
    },
    {
      pattern: /^\/metrics$/u,
      methods: {
        GET: async () => {
          if (!providers.metrics) throw new AdminNotRunningError("metrics");
          const { contentType, body } = await providers.metrics();
          return { status: 200, contentType, body };
        },
      },
    },
  ];

  function clearances(): ClearanceAdmin {
    if (!providers.clearances) throw new AdminNotRunningError("the clearance store");
    return providers.clearances;
  }

  return async (req) => {
    try {
      // DNS rebinding and cross-site requests first, on every path (guard.ts).
      if (!hostAllowed(req.host, options.hosts ?? [])) throw new AdminHostRefusedError();
      if (!originAllowed(req.origin, req.host)) throw new AdminCrossOriginError();
      const url = new URL(req.url, "http://admin.invalid");
      for (const route of routes) {
        const match = route.pattern.exec(url.pathname);
        if (!match) continue;
        if (
          !route.open &&
          (options.token === undefined || !tokenMatches(options.token, bearerToken(req.authorization)))
        )
          throw new AdminUnauthorizedError();
        const method = req.method === "HEAD" ? "GET" : req.method;
        const handler = route.methods[method];
        if (!handler) throw new AdminMethodNotAllowedError(req.method, Object.keys(route.methods));
        if (STATE_CHANGING.has(method) && !contentTypeAllowed(req.contentType))
          throw new AdminUnsupportedMediaTypeError();
        return await handler(req, match, url.searchParams);
      }
      throw new AdminNotFoundError(url.pathname);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
