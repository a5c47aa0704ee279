// The admin API as a pure function from a request to a response, over providers that the running
// process (or a test) supplies. JSON everywhere except /metrics; errors are
// `{"error": {"code": "CORDON_…", "message": "…"}}` with the status of their class (ops-errors.ts).
//   GET    /health                 liveness: the process answers
//   GET    /ready                  200 when every XEP-0114 link of every component is online, else 503
//   /rooms …                        MUC rooms: list, detail, create, relabel, kick, destroy (routes/rooms.ts)
//   /clearances, /peers, /services  user, peer-domain and service clearances (routes/clearances.ts)
//   /policies                       loaded policies, upload, reload, label tester (routes/policies.ts)
//   /catalogs                       a user's catalog toward a target, stored catalogs (routes/catalogs.ts)
//   GET    /peerings, /audit …      relay peerings, audit log browsing and verify (routes/boundary.ts)
//   GET    /metrics                Prometheus text exposition
//   GET    /overview               the console's overview (routes/overview.ts)
//   /console/…                     the web console: login, session, assets (console.ts)
// Authentication: `Authorization: Bearer TOKEN` (who = "token", role admin) or the console's
// session cookie (who = the user; a change needs the session's x-cordon-csrf header, and the role
// admin). Host and Origin are checked first on every path (guard.ts).
import { csrfSatisfied, mayChange } from "@cordon/console";
import type { LinkState } from "../metrics/link-book.js";
import {
  AdminMethodNotAllowedError,
  AdminNotFoundError,
  AdminCrossOriginError,
  AdminCsrfError,
  AdminForbiddenError,
  AdminHostRefusedError,
  AdminNotRunningError,
  AdminUnauthorizedError,
  AdminUnsupportedMediaTypeError,
} from "../ops-errors.js";
import { contentTypeAllowed, hostAllowed, originAllowed, STATE_CHANGING } from "./guard.js";
import { ConsoleAuth } from "./console.js";
import {
  errorResponse,
  json,
  type AdminRoute,
  type AdminRequest,
  type AdminResponse,
  type Who,
} from "./http.js";
import { overviewRoutes, type OverviewProvider } from "./routes/overview.js";
import type { PeopleContext } from "./routes/people.js";
import { clearanceRoutes } from "./routes/clearances.js";
import { policyRoutes } from "./routes/policies.js";
import { catalogRoutes } from "./routes/catalogs.js";
import { roomRoutes, type ChangeAudit, type RoomsProvider } from "./routes/rooms.js";
import { boundaryRoutes, type BoundaryProvider } from "./routes/boundary.js";

export { errorResponse, json } from "./http.js";
export type { AdminRequest, AdminResponse, AdminRoute, RoutedRequest, Route, Who } from "./http.js";

export interface ComponentReadiness {
  name: string;
  ready: boolean;
  links: LinkState[];
}

export interface AdminProviders {
  components(): ComponentReadiness[];
  /** The MUC's rooms and operator; undefined when no MUC runs in this process (routes/rooms.ts). */
  rooms?(): RoomsProvider | undefined;
  /** Clearances, policies and catalogs (routes/*.ts); absent when no component built the environment. */
  people?: PeopleContext;
  /** Relay peerings and the audit logs (routes/boundary.ts). */
  boundary?(): BoundaryProvider | undefined;
  /** Where admin changes are recorded, with who made them (audit-log.ts). */
  changeAudit?: ChangeAudit;
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** The console's overview (totals and time series); undefined: not collected in this process. */
  overview?: OverviewProvider;
}

export interface AdminHandlerOptions {
  /** Required on every endpoint but /health; without one, only /health answers (fail closed). */
  token?: string | undefined;
  /** Names accepted in the Host header besides IP literals and localhost (`admin.hosts`). */
  hosts?: readonly string[];
  startedAt?: number;
  /** The console's sessions, logins and assets (one is made from `token` when not given). */
  console?: ConsoleAuth;
}

export function createAdminHandler(
  providers: AdminProviders,
  options: AdminHandlerOptions = {},
): (req: AdminRequest) => Promise<AdminResponse> {
  const startedAt = options.startedAt ?? Date.now();
  const consoleAuth = options.console ?? new ConsoleAuth({ token: options.token });
  const routes: AdminRoute[] = [
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
      pattern: /^\/metrics$/u,
      methods: {
        GET: async () => {
          if (!providers.metrics) throw new AdminNotRunningError("metrics");
          const { contentType, body } = await providers.metrics();
          return { status: 200, contentType, body };
        },
      },
    },
    // Each area's routes (one file each under routes/).
    ...overviewRoutes(providers.overview),
    ...consoleAuth.routes(),
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
        const method = req.method === "HEAD" ? "GET" : req.method;
        let who: Who = { user: "anonymous", role: "viewer" };
        if (!route.open) {
          // Without a token configured nothing but the open routes answers (fail closed).
          const auth = options.token === undefined ? undefined : consoleAuth.authenticate(req);
          if (!auth) throw new AdminUnauthorizedError();
          who = auth.who;
          const handler = route.methods[method];
          if (!handler) throw new AdminMethodNotAllowedError(req.method, Object.keys(route.methods));
          // A cookie's change needs the session's CSRF token (@cordon/console csrf.ts) ...
          if (auth.session && !csrfSatisfied(method, auth.session.csrf, req.csrf)) throw new AdminCsrfError();
          // ... and every change the role admin (@cordon/console roles.ts).
          if (!route.anyRole && !mayChange(who, method)) throw new AdminForbiddenError();
        }
        const handler = route.methods[method];
        if (!handler) throw new AdminMethodNotAllowedError(req.method, Object.keys(route.methods));
        if (STATE_CHANGING.has(method) && !contentTypeAllowed(req.contentType))
          throw new AdminUnsupportedMediaTypeError();
        return await handler({ ...req, who }, match, url.searchParams);
      }
      // The path is not quoted back (found in review, advconsole: a 404 echoed up to the whole
      // request line, markup and all): a sender's text never comes back in an error.
      throw new AdminNotFoundError("that path");
    } catch (error) {
      return errorResponse(error);
    }
  };
}
