// The Prometheus metrics of one `cordon` process (prom-client), created once and handed to the
// components through small observers. Label values are component names, outcomes, reason codes,
// stanza kinds and store operations only: never JIDs, domains or room names (their number is
// unbounded and they are personal data).
// Exposition format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ReportedHistogram } from "./reported-histogram.js";

export type ComponentName = string;

export interface CordonMetrics {
  readonly registry: Registry;
  readonly stanzasIn: Counter<"component" | "kind">;
  readonly stanzasOut: Counter<"component">;
  readonly oversize: Counter<"component" | "direction" | "part">;
  readonly decisions: Counter<"component" | "outcome" | "reason">;
  readonly fanout: Histogram<"component">;
  readonly withheld: Counter<"component">;
  readonly queueDepth: Gauge<"component">;
  readonly reconnects: Counter<"component">;
  readonly linksOnline: Gauge<"component">;
  readonly links: Gauge<"component">;
  readonly storeLatency: Histogram<"backend" | "operation">;
  readonly storeErrors: Counter<"backend" | "operation">;
  readonly policyReloads: Counter<"result">;
  readonly policyGeneration: Gauge;
  /** Bytes each bounded buffer of a component holds now, and its configured limit (memory budget). */
  readonly memoryBytes: Gauge<"component" | "buffer">;
  readonly memoryLimitBytes: Gauge<"component" | "buffer">;
  /**
   * The latency the central check adds inside the servers, as their modules measured and reported
   * it (packages/guard/src/latency-report.ts): each message's hold by kind (cached|asked), and the
   * guard question's round trip.
   */
  readonly guardHold: ReportedHistogram;
  readonly guardRoundTrip: ReportedHistogram;
  /** Adds a function run before each scrape (to copy counters kept elsewhere, e.g. by the relay). */
  onCollect(fn: () => void): void;
  /** Runs the functions added by onCollect (before reading a metric's values directly). */
  collect(): void;
  /** The text exposition of every metric. */
  text(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

const FANOUT_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(options: MetricsOptions = {}): CordonMetrics {
  const registry = new Registry();
  const collectors: (() => void)[] = [];
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "cordon_" });
  const registers = [registry];
  const metrics: CordonMetrics = {
    registry,
    stanzasIn: new Counter({
      name: "cordon_stanzas_in_total",
      help: "Stanzas received from the XMPP server, by stanza kind",
      labelNames: ["component", "kind"],
      registers,
    }),
    stanzasOut: new Counter({
      name: "cordon_stanzas_out_total",
      help: "Stanzas handed to the outgoing queue towards the XMPP server",
      labelNames: ["component"],
      registers,
    }),
    oversize: new Counter({
      name: "cordon_stanzas_oversize_total",
      help: "Stanzas over a size bound: incoming ones refused (by part), outgoing ones never written",
      labelNames: ["component", "direction", "part"],
      registers,
    }),
    decisions: new Counter({
      name: "cordon_decisions_total",
      help: "Security decisions by outcome (grant|deny) and reason code",
      labelNames: ["component", "outcome", "reason"],
      registers,
    }),
    fanout: new Histogram({
      name: "cordon_fanout_size",
      help: "Copies sent per delivered groupchat message",
      labelNames: ["component"],
      buckets: FANOUT_BUCKETS,
      registers,
    }),
    withheld: new Counter({
      name: "cordon_fanout_withheld_total",
      help: "Occupants not sent a groupchat message because their clearance does not grant its label",
      labelNames: ["component"],
      registers,
    }),
    queueDepth: new Gauge({
      name: "cordon_queue_depth",
      help: "Stanzas waiting in the outgoing queues",
      labelNames: ["component"],
      registers,
    }),
    reconnects: new Counter({
      name: "cordon_reconnects_total",
      help: "Reconnection attempts to the XMPP server",
      labelNames: ["component"],
      registers,
    }),
    linksOnline: new Gauge({
      name: "cordon_links_online",
      help: "XEP-0114 links currently online",
      labelNames: ["component"],
      registers,
    }),
    links: new Gauge({
      name: "cordon_links",
      help: "XEP-0114 links configured",
      labelNames: ["component"],
      registers,
    }),
    storeLatency: new Histogram({
      name: "cordon_store_duration_seconds",
      help: "Latency of clearance store and directory operations",
      labelNames: ["backend", "operation"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    storeErrors: new Counter({
      name: "cordon_store_errors_total",
      help: "Store and directory operations that failed or answered unknown",
      labelNames: ["backend", "operation"],
      registers,
    }),
    policyReloads: new Counter({
      name: "cordon_policy_reloads_total",
      help: "Policy reloads by result (ok|rejected)",
      labelNames: ["result"],
      registers,
    }),
    policyGeneration: new Gauge({
      name: "cordon_policy_generation",
      help: "Generation of the loaded policy set (moves at each successful reload)",
      registers,
    }),
    memoryBytes: new Gauge({
      name: "cordon_memory_bytes",
      help: "Bytes held by a bounded buffer (history, IQ tracking, pending decisions, throttle, outgoing queue, caches)",
      labelNames: ["component", "buffer"],
      registers,
    }),
    memoryLimitBytes: new Gauge({
      name: "cordon_memory_limit_bytes",
      help: "Configured byte limit of a bounded buffer",
      labelNames: ["component", "buffer"],
      registers,
    }),
    guardHold: new ReportedHistogram(
      "cordon_guard_hold_seconds",
      "How long the server module held a one-to-one message for the central check (taken to delivered or refused), by kind: served from its verdict cache, or the guard asked",
      "kind",
      new Map([
        ["hold/cached", "cached"],
        ["hold/asked", "asked"],
      ]),
      registry,
    ),
    guardRoundTrip: new ReportedHistogram(
      "cordon_guard_round_trip_seconds",
      "Round trip of the server module's question to the guard (sent to verdict received), on the server's clock",
      "kind",
      new Map([["round-trip/asked", "asked"]]),
      registry,
    ),
    onCollect(fn) {
      collectors.push(fn);
    },
    collect() {
      for (const fn of collectors) fn();
    },
    async text() {
      for (const fn of collectors) fn();
      // prom-client writes an event-loop-lag gauge with no samples yet as "Nan", which is not
      // Prometheus text (the format spells it "NaN"): normalise it.
      const body = (await registry.metrics()).replace(/ Nan$/gm, " NaN");
      return { contentType: registry.contentType, body };
    },
  };
  return metrics;
}
