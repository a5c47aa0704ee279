// The per-recipient decision (XEP-0258 §"Sending Messages": "The server MUST only deliver messages
// to participants for which they are cleared to receive"). An occupant whose clearance is unknown
// or nil receives nothing labelled. An occupant governed by an equivalent policy receives the label
// translated into its policy, and is judged on the translated label. A clearance or label bound to a
// policy the registry no longer holds (one a reload could not re-bind) grants nothing, as in
// @cordon/rules Translations.decide (adv15: translated into the old object by OID, it granted).
// Nor does an occupant whose session's location does not grant the label (the guard's
// client-location rule, security/occupant-location.ts): other sessions of the same user still get
// it. Every labelled delivery passes here: live, history, the archive, private messages.
import { acdf, isLoaded, type Label } from "@cordon/policy";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { locationGrants } from "../security/occupant-location.js";

/** The label as `occupant` must see it, or undefined when they may not see the message at all. */
export function deliverableLabel(
  ctx: Pick<MucContext, "labels" | "locations">,
  occupant: Occupant,
  label: Label,
): Label | undefined {
  const state = occupant.clearance;
  if (state.status !== "known") return undefined;
  if (!locationGrants(ctx, occupant, label)) return undefined;
  const clearance = state.clearance;
  const registry = ctx.labels.registry;
  if (!isLoaded(clearance.policy, registry) || !isLoaded(label.policy, registry)) return undefined;
  const shown = clearance.policy === label.policy ? label : ctx.labels.translate(label, clearance.policy);
  if (!shown) return undefined;
  return acdf(shown, clearance).granted ? shown : undefined;
}
