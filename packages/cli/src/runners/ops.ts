// The operator hooks a runner may give `cordon start`: its XEP-0114 links (readiness, link
// metrics), the rooms and their operator (MUC), peering counters, views and audit log (relay) and a policy re-binder (hot reload);
// and what a runner receives to report decisions. Everything here is optional: a runner without
// hooks still runs, it only shows less in the admin API.
import type { BufferUse, CordonComponent } from "@cordon/component";
import type { Catalog, CatalogQuery } from "@cordon/catalog";
import type { MucObserver } from "@cordon/muc";
import type { Relay } from "@cordon/relay";
import type { LinkBook } from "../metrics/link-book.js";
import type { CordonMetrics } from "../metrics/registry.js";
import type { PolicyRebinder } from "../reload.js";
import type { RoomsProvider } from "../admin/routes/rooms.js";
import type { AuditLogRef } from "../admin/routes/boundary.js";
import type { PeeringView } from "../admin/peering-view.js";

export interface ComponentOps {
  /** The MUC's rooms and its service-operator operations (admin routes/rooms.ts). */
  rooms?: RoomsProvider;
  /** Relay counters per peering, as the relay reports them. */
  peerings?(): unknown;
  /** Each relay peering's sides, direction clearances and controls (admin peering-view.ts). */
  peeringViews?(): PeeringView[];
  /** The audit log this component writes (the relay's own), for browsing and verify. */
  auditLog?: AuditLogRef;
  rebinder?: PolicyRebinder;
  /** The catalog service's answer for a query (the console's catalog view). */
  catalog?(query: CatalogQuery): Promise<Catalog>;
}

export interface OpsContext {
  metrics?: CordonMetrics;
  links: LinkBook;
}

/** grant and deny: a decision on a stanza; refresh: the guard's cache renewed (no stanza decided). */
export type DecisionOutcome = "grant" | "deny" | "refresh";

/** Starts observing the links of a component (call before it connects). */
export function observeLinks(
  ops: OpsContext | undefined,
  name: string,
  components: Iterable<CordonComponent>,
): void {
  if (!ops) return;
  for (const component of components) ops.links.observe(name, component);
}

/** A decision counter for one component, or undefined when metrics are off. */
export function decisionCounter(
  ops: OpsContext | undefined,
  name: string,
): ((outcome: DecisionOutcome, reason: string, count?: number) => void) | undefined {
  const m = ops?.metrics;
  if (!m) return undefined;
  return (outcome, reason, count = 1) => m.decisions.labels(name, outcome, reason).inc(count);
}

/** The MUC's decision and fan-out observer, feeding the process metrics. */
export function mucObserver(ops: OpsContext | undefined): MucObserver | undefined {
  const m = ops?.metrics;
  if (!m) return undefined;
  const fanout = m.fanout.labels("muc");
  const withheld = m.withheld.labels("muc");
  return {
    decision: (kind, granted, reason) =>
      m.decisions.labels("muc", granted ? "grant" : "deny", `${kind}:${reason}`).inc(),
    fanout(delivered, notDelivered) {
      fanout.observe(delivered);
      if (notDelivered > 0) withheld.inc(notDelivered);
    },
    // Issue 14: stored data of persistent rooms over the size bounds, left out at load.
    skipped: (what, count) => m.oversize.labels("muc", "stored", what).inc(count),
  };
}

/** `{ observer }` when there is one (exactOptionalPropertyTypes-friendly spread). */
export function withObserver<T>(observer: T | undefined): { observer: T } | Record<string, never> {
  return observer ? { observer } : {};
}

/**
 * The relay keeps its own decision counters per peering and direction (relay.metrics()); at each
 * scrape the increase since the last one is added to the process's decision counter (pass is a
 * grant; refuse and drop are denials; the reason is the relay's `decision:reason` key). Peering names
 * are not used as label values.
 */
export function observeRelay(ops: OpsContext | undefined, relay: Pick<Relay, "metrics">): void {
  const m = ops?.metrics;
  if (!m) return;
  const seen = new Map<string, number>();
  m.onCollect(() => {
    const totals = new Map<string, { outcome: DecisionOutcome; reason: string; value: number }>();
    const add = (outcome: DecisionOutcome, reason: string, value: number) => {
      const key = `${outcome}\u0000${reason}`;
      const t = totals.get(key) ?? { outcome, reason, value: 0 };
      t.value += value;
      totals.set(key, t);
    };
    for (const peering of Object.values(relay.metrics())) {
      for (const counts of [peering.outbound, peering.inbound]) {
        // Keys are "<pass|refuse|drop>:<reason>".
        for (const [key, n] of Object.entries(counts.reasons))
          add(key.startsWith("pass:") ? "grant" : "deny", key, n);
      }
    }
    for (const [key, t] of totals) {
      const delta = t.value - (seen.get(key) ?? 0);
      if (delta > 0) m.decisions.labels("relay", t.outcome, t.reason).inc(delta);
      seen.set(key, t.value);
    }
  });
}

/** Copies what each bounded buffer of a component holds into the memory gauges at each scrape. */
export function observeMemory(ops: OpsContext | undefined, name: string, memory: () => BufferUse[]): void {
  const m = ops?.metrics;
  if (!m) return;
  m.onCollect(() => {
    for (const use of memory()) {
      m.memoryBytes.labels(name, use.buffer).set(use.bytes);
      m.memoryLimitBytes.labels(name, use.buffer).set(use.maxBytes);
    }
  });
}

/** "domain -> host:port" for check-config. */
export function target(connection: { domain: string; service: string }, note?: string): string {
  return `${connection.domain} -> ${connection.service.replace(/^xmpp:\/\//u, "")}${note ? ` (${note})` : ""}`;
}
