// GET /overview: the console's Overview page — every component and its XEP-0114 links, totals of
// deliveries and refusals (by reason), the time series of decisions (metrics/overview.ts, a bounded
// ring buffer), store and directory health.
import { AdminNotRunningError } from "../../ops-errors.js";
import { json, type AdminRoute } from "../http.js";

export interface OverviewLink {
  /** The link's component domain. */
  name: string;
  state: string;
  online: boolean;
  reconnects: number;
  queueDepth: number;
}

export interface OverviewPoint {
  /** Unix seconds at the end of the interval. */
  t: number;
  /** Grants and refusals decided in the interval. */
  deliveries: number;
  refusals: number;
}

export interface Overview {
  components: { name: string; ready: boolean; links: OverviewLink[] }[];
  store: { kind: string; healthy: boolean };
  directory?: { healthy: boolean };
  totals: { deliveries: number; refusals: number; refusalsByReason: Record<string, number> };
  series: OverviewPoint[];
  intervalSeconds: number;
}

export type OverviewProvider = () => Promise<Overview>;

export function overviewRoutes(provider: OverviewProvider | undefined): AdminRoute[] {
  return [
    {
      pattern: /^\/overview$/u,
      methods: {
        GET: async () => {
          if (!provider) throw new AdminNotRunningError("the overview");
          return json(200, await provider());
        },
      },
    },
  ];
}
