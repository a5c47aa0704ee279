// The service clearance that bounds every room label and message label of this MUC (XEP-0258
// §"Use in Group Chat"): the configured `serviceClearance` and the store's service clearance of the
// MUC's domain — the one the catalog reads (`ClearanceReader.service`, the same reader path), so
// the MUC never accepts a label the catalog would not offer. Both apply when both exist. When the
// store cannot answer, nothing can be decided: "unknown", and callers refuse (fail closed).
import type { Clearance, Label } from "@cordon/policy";
import type { StanzaLabels } from "@cordon/rules";
import type { MucContext } from "../service/context.js";

export type ServiceBound =
  { readonly status: "known"; readonly clearances: readonly Clearance[] } | { readonly status: "unknown" };

/** The bound now: every clearance in it must grant a label. Never throws. */
export async function readServiceBound(
  ctx: Pick<MucContext, "clearances" | "settings">,
): Promise<ServiceBound> {
  const stored = await ctx.clearances.service(ctx.settings.domain);
  if (stored.status === "unknown") return { status: "unknown" };
  const clearances: Clearance[] = [];
  if (ctx.settings.serviceClearance) clearances.push(ctx.settings.serviceClearance);
  if (stored.status === "known") clearances.push(stored.clearance);
  return { status: "known", clearances };
}

/**
 * Whether the service clearance grants `label` — each clearance judged on the label as its own
 * policy says it (@cordon/rules translation.ts); never when it is unknown.
 */
export function serviceGrants(
  labels: Pick<StanzaLabels, "grants">,
  bound: ServiceBound,
  label: Label,
): boolean {
  return bound.status === "known" && bound.clearances.every((c) => labels.grants(label, c));
}
