// The admin API as a pure function from a request to a response, over providers that the running
// process (or a test) supplies. JSON everywhere except /metrics; errors are
// `{"error": {"code": "CORDON_…", "message": "…"}}` with the status of their class (ops-errors.ts).
//   GET    /health                 liveness: the process answers
//   GET    /ready                  200 when every XEP-0114 link of every component is online, else 503
//   GET    /rooms                  MUC rooms: label and clearance markings, occupant count
//   /clearances, /peers, /services  user, peer-domain and service clearances (routes/clearances.ts)
//   /policies                       loaded policies, upload, reload, label tester (routes/policies.ts)
//   /catalogs                       a user's catalog toward a target, stored catalogs (routes/catalogs.ts)
//   GET    /peerings               relay decision counters per peering and direction
//   GET    /metrics                Prometheus text exposition
import type { RoomSummary } from "../runners/ops.js";
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
import type { PeopleContext } from "./routes/people.js";
import { clearanceRoutes } from "./routes/clearances.js";
import { policyRoutes } from "./routes/policies.js";
import { catalogRoutes } from "./routes/catalogs.js";

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
  /** Who is asking (CONSOLE.md): the session's user and role; absent: the bearer token (admin). */
  who?: { user: string; role: "viewer" | "admin" } | undefined;
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

export interface AdminProviders {
  components(): ComponentReadiness[];
  /** Rooms of the MUC; undefined when no MUC runs in this process. */
  rooms(): RoomSummary[] | undefined;
  /** Clearances, policies and catalogs (routes/*.ts); absent when no component built the environment. */
  people?: PeopleContext;
  /** Relay counters; undefined when no relay runs in this process. */
  peerings(): unknown;
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
    {
      pattern: /^\/rooms$/u,
      methods: {
        GET: async () => {
          const rooms = providers.rooms();
          if (rooms === undefined) throw new AdminNotRunningError("the MUC component");
          return json(200, { rooms });
        },
      },
    },
    ...(providers.people
      ? [
          ...clearanceRoutes(providers.people),
          ...policyRoutes(providers.people),
          ...catalogRoutes(providers.people),
        ]
      : [
          {
            // No component built the environment (store, policies): these answer "not running".
            pattern: /^\/(?:clearances|peers|services|policies|catalogs)(?:\/.*)?$/u,
            methods: Object.fromEntries(
              ["GET", "PUT", "POST", "DELETE"].map((m) => [
                m,
                async (): Promise<AdminResponse> => {
                  throw new AdminNotRunningError("the clearance store and policies");
                },
              ]),
            ),
          },
        ]),
    {
      pattern: /^\/peerings$/u,
      methods: {
        GET: async () => {
          const peerings = providers.peerings();
          if (peerings === undefined) throw new AdminNotRunningError("the relay component");
          return json(200, { peerings });
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
