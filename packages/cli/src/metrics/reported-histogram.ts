// A Prometheus histogram whose observations were made elsewhere and arrive already bucketed: the
// latency the central check adds, measured by the server modules on the server's monotonic clock
// and reported to the guard every few seconds (packages/guard/src/latency-report.ts). prom-client's
// Histogram takes one observation at a time; this exposes the reported bucket counts as they are
// (same bounds as the modules', cumulative `le` buckets, `_sum` and `_count`), through prom-client's
// registry, in its text format.
// Exposition format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import type { Metric, Registry } from "prom-client";
import { LATENCY_BOUNDS_US, LatencyHistograms, type LatencyDelta, type LatencyName } from "@cordon/guard";

interface Sample {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

export class ReportedHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #histograms = new LatencyHistograms();

  /**
   * `series`: the label values of each histogram exposed (one label, `labelName`), by the name of
   * the reported histogram it shows.
   */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly series: ReadonlyMap<LatencyName, string>,
    registry: Registry,
  ) {
    // (prom-client's registry takes any object with its metrics' get(): this is one, not a class of its.)
    registry.registerMetric(this as unknown as Metric);
  }

  /** A module's report, added (the guard runner's onLatency). */
  add(deltas: readonly LatencyDelta[]): void {
    this.#histograms.add(deltas.filter((d) => this.series.has(`${d.of}/${d.kind}`)));
  }

  reset(): void {
    // (Counters of a process: never reset but by a restart.)
  }

  get(): Promise<{ name: string; help: string; type: "histogram"; aggregator: "sum"; values: Sample[] }> {
    const values: Sample[] = [];
    for (const [name, label] of this.series) {
      const totals = this.#histograms.totals(name);
      let cumulative = 0;
      LATENCY_BOUNDS_US.forEach((bound, i) => {
        cumulative += totals.counts[i] ?? 0;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { [this.labelName]: label, le: bound / 1e6 },
          value: cumulative,
        });
      });
      const labels = { [this.labelName]: label };
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...labels, le: "+Inf" },
        value: totals.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels, value: totals.sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels, value: totals.count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
