// The operator hooks a runner may give `cordon start`: its XEP-0114 links (readiness, link
// metrics), a room listing (MUC), peering counters (relay) and a policy re-binder (hot reload);
// and what a runner receives to report decisions. Everything here is optional: a runner without
// hooks still runs, it only shows less in the admin API.
import type { CordonComponent } from "@cordon/component";
import type { MucObserver } from "@cordon/muc";
import type { LinkBook } from "../metrics/link-book.js";
import type { CordonMetrics } from "../metrics/registry.js";
import type { PolicyRebinder } from "../reload.js";

export interface RoomSummary {
  jid: string;
  name: string;
  /** Display marking of the room label (who may be in the room). */
  label: string | null;
  /** Display marking of the room clearance (labels its messages may carry). */
  clearance: string | null;
  defaultLabel: string | null;
  occupants: number;
  persistent: boolean;
}

export interface ComponentOps {
  rooms?(): RoomSummary[];
  /** Relay counters per peering, as the relay reports them. */
  peerings?(): unknown;
  rebinder?: PolicyRebinder;
}

export interface OpsContext {
  metrics?: CordonMetrics;
  links: LinkBook;
}

export type DecisionOutcome = "grant" | "deny";

/** Starts observing the links of a component (call before it connects). */
export function observeLinks(ops: OpsContext | undefined, name: string, components: Iterable<CordonComponent>): void {
  if (!ops) return;
  for (const component of components) ops.links.observe(name, component);
}

/** A decision counter for one component, or undefined when metrics are off. */
export function decisionCounter(ops: OpsContext | undefined, name: string): ((outcome: DecisionOutcome, reason: string) => void) | undefined {
  const m = ops?.metrics;
  if (!m) return undefined;
  return (outcome, reason) => m.decisions.labels(name, outcome, reason).inc();
}

/** The MUC's decision and fan-out observer, feeding the process metrics. */
export function mucObserver(ops: OpsContext | undefined): MucObserver | undefined {
  const m = ops?.metrics;
  if (!m) return undefined;
  const fanout = m.fanout.labels("muc");
  const withheld = m.withheld.labels("muc");
  return {
    decision: (kind, granted, reason) => m.decisions.labels("muc", granted ? "grant" : "deny", `${kind}:${reason}`).inc(),
    fanout(delivered, notDelivered) {
      fanout.observe(delivered);
      if (notDelivered > 0) withheld.inc(notDelivered);
    },
  };
}
