// What the modules reported of the latency the check adds (latency-report.ts), summed per
// histogram: the guard's metrics expose it (packages/cli metrics, cordon_guard_hold_seconds and
// cordon_guard_round_trip_seconds) and the bench reads its quantiles (bench/one-to-one.mjs).
// Bounded: a fixed number of histograms of LATENCY_BUCKETS counts each.
import {
  LATENCY_BOUNDS_US,
  LATENCY_BUCKETS,
  type LatencyDelta,
  type LatencyKind,
  type LatencyOf,
} from "./latency-report.js";

/** One histogram's totals. */
export interface LatencyTotals {
  /** Per bucket (LATENCY_BOUNDS_US; the last: above the last bound), not cumulative. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
}

export type LatencyName = `${LatencyOf}/${LatencyKind}`;
export const LATENCY_NAMES: readonly LatencyName[] = ["hold/cached", "hold/asked", "round-trip/asked"];

export class LatencyHistograms {
  readonly #counts = new Map<LatencyName, number[]>();
  readonly #sums = new Map<LatencyName, number>();

  constructor() {
    for (const name of LATENCY_NAMES) {
      this.#counts.set(name, new Array<number>(LATENCY_BUCKETS).fill(0));
      this.#sums.set(name, 0);
    }
  }

  /** Adds one report's deltas (read by readLatencyReport). */
  add(deltas: readonly LatencyDelta[]): void {
    for (const d of deltas) {
      const name: LatencyName = `${d.of}/${d.kind}`;
      const counts = this.#counts.get(name);
      if (!counts) continue;
      for (const [index, n] of d.buckets) counts[index] = (counts[index] ?? 0) + n;
      this.#sums.set(name, (this.#sums.get(name) ?? 0) + d.sumUs / 1e6);
    }
  }

  totals(name: LatencyName): LatencyTotals {
    const counts = [...(this.#counts.get(name) ?? [])];
    return { counts, count: counts.reduce((a, b) => a + b, 0), sumSeconds: this.#sums.get(name) ?? 0 };
  }
}

/** `later` less `earlier` (a phase's observations, from two totals of the same histogram). */
export function latencySince(later: LatencyTotals, earlier: LatencyTotals): LatencyTotals {
  const counts = later.counts.map((n, i) => n - (earlier.counts[i] ?? 0));
  return { counts, count: later.count - earlier.count, sumSeconds: later.sumSeconds - earlier.sumSeconds };
}

/**
 * The upper bound (seconds) of the bucket the `q`-quantile falls in: the quantile is at most this
 * and above the bound before (the buckets' resolution: a factor of 1.6 at most). Infinity: above
 * the last bound; undefined: no observation.
 */
export function latencyQuantile(totals: LatencyTotals, q: number): number | undefined {
  if (totals.count === 0) return undefined;
  const rank = Math.ceil(q * totals.count);
  let seen = 0;
  for (let i = 0; i < totals.counts.length; i++) {
    seen += totals.counts[i] ?? 0;
    if (seen >= rank) {
      const bound = LATENCY_BOUNDS_US[i];
      return bound === undefined ? Infinity : bound / 1e6;
    }
  }
  return Infinity;
}

/** The share of observations at most `boundUs` (one of LATENCY_BOUNDS_US: exact), or undefined. */
export function latencyShareAtMost(totals: LatencyTotals, boundUs: number): number | undefined {
  if (totals.count === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < LATENCY_BOUNDS_US.length; i++) {
    if ((LATENCY_BOUNDS_US[i] ?? Infinity) > boundUs) break;
    seen += totals.counts[i] ?? 0;
  }
  return seen / totals.count;
}
