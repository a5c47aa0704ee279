// The numbers of the console's Overview, from the metrics the process already keeps: decisions by
// outcome and reason (cordon_decisions_total) as totals, and as a time series sampled every
// `intervalMs` into a ring buffer of at most `points` entries (default 360 × 10 s: the last hour);
// store health from a probe at each sample (a lookup that answers "unknown" means the store is
// down), directory health from its error counter (no new errors since the last sample).
import type { ClearanceStore, UserClearanceSource } from "@cordon/store";
import type { CordonMetrics } from "./registry.js";
import type { Overview, OverviewPoint } from "../admin/routes/overview.js";

export interface OverviewOptions {
  metrics: CordonMetrics;
  components: () => Overview["components"];
  /** The shared store (undefined: no component built the environment). */
  store?: { kind: string; store: ClearanceStore } | undefined;
  directory?: UserClearanceSource | undefined;
  intervalMs?: number;
  points?: number;
}

interface Totals {
  deliveries: number;
  refusals: number;
  refusalsByReason: Record<string, number>;
}

/** A JID no store holds: the probe's answer says only whether the store answers. */
const PROBE_JID = "cordon-health-probe@health.invalid";

export class OverviewCollector {
  readonly #options: OverviewOptions;
  readonly #intervalMs: number;
  readonly #points: number;
  readonly #series: OverviewPoint[] = [];
  #last: Totals = { deliveries: 0, refusals: 0, refusalsByReason: {} };
  #storeHealthy = true;
  #directoryErrors = 0;
  #directoryHealthy = true;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: OverviewOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#points = options.points ?? 360;
  }

  start(): this {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #totals(): Promise<Totals> {
    const m = this.#options.metrics;
    m.collect();
    const totals: Totals = { deliveries: 0, refusals: 0, refusalsByReason: {} };
    for (const v of (await m.decisions.get()).values) {
      if (v.labels.outcome === "grant") totals.deliveries += v.value;
      else if (v.labels.outcome === "deny") {
        totals.refusals += v.value;
        const reason = String(v.labels.reason ?? "unknown");
        totals.refusalsByReason[reason] = (totals.refusalsByReason[reason] ?? 0) + v.value;
      }
    }
    return totals;
  }

  async #directoryErrorCount(): Promise<number> {
    let n = 0;
    for (const v of (await this.#options.metrics.storeErrors.get()).values)
      if (v.labels.backend === "users") n += v.value;
    return n;
  }

  /** Takes one point of the series (the timer calls it; tests may too). */
  async sample(): Promise<void> {
    const totals = await this.#totals();
    this.#series.push({
      t: Math.round(Date.now() / 1000),
      deliveries: Math.max(0, totals.deliveries - this.#last.deliveries),
      refusals: Math.max(0, totals.refusals - this.#last.refusals),
    });
    while (this.#series.length > this.#points) this.#series.shift();
    this.#last = totals;
    const store = this.#options.store?.store;
    if (store) {
      const answer = await store.getUserClearance(PROBE_JID).catch(() => ({ status: "unknown" as const }));
      this.#storeHealthy = answer.status !== "unknown";
    }
    if (this.#options.directory) {
      const errors = await this.#directoryErrorCount();
      this.#directoryHealthy = errors === this.#directoryErrors;
      this.#directoryErrors = errors;
    }
  }

  async overview(): Promise<Overview> {
    const totals = await this.#totals();
    return {
      components: this.#options.components(),
      store: {
        kind: this.#options.store?.kind ?? "none",
        healthy: this.#options.store ? this.#storeHealthy : true,
      },
      ...(this.#options.directory ? { directory: { healthy: this.#directoryHealthy } } : {}),
      totals,
      series: [...this.#series],
      intervalSeconds: this.#intervalMs / 1000,
    };
  }
}
