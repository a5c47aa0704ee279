// The clearances a label must be granted by to cross, in order (XEP-0258 §"Use in XMPP"): the
// direction's, the sender's, then the recipient's (recipient.ts). Written once, synchronously,
// over ClearanceLookups (clearance-lookups.ts): all cached, the decision is made in one turn;
// otherwise MISS, and the decision awaits the missing lookup and runs the checks again.
import type { Label } from "@cordon/policy";
import type { ClearanceState } from "@cordon/rules";
import { ClearanceLookups, MISS, type Miss } from "./clearance-lookups.js";
import type { ClearanceSource } from "./clearances.js";
import type { Route } from "./direction.js";
import type { DirectionContext } from "./decide.js";
import type { LabelEngine } from "./label-check.js";
import { recipientClearances } from "./recipient.js";

/** Why a clearance does not let the label cross (the audit's reason and detail). */
export interface ClearanceRefusal {
  readonly reason: string;
  readonly detail?: string;
}

/**
 * Undefined when every clearance grants `label` on `route`, else why not: at once when every
 * answer needed is cached, else a promise (the missing lookups awaited one at a time, in the order
 * the checks ask for them, the checks run again after each).
 */
export function clearanceRefusal(
  label: Label,
  route: Route,
  ctx: DirectionContext,
  engine: LabelEngine,
  source: ClearanceSource,
): ClearanceRefusal | undefined | Promise<ClearanceRefusal | undefined> {
  const lookups = new ClearanceLookups(source);
  const verdict = checkClearances(label, route, ctx, engine, lookups);
  return verdict !== MISS ? verdict : awaitClearances(label, route, ctx, engine, lookups);
}

async function awaitClearances(
  label: Label,
  route: Route,
  ctx: DirectionContext,
  engine: LabelEngine,
  lookups: ClearanceLookups,
): Promise<ClearanceRefusal | undefined> {
  for (;;) {
    if (!(await lookups.fetchMissing())) throw new Error("the clearance checks stopped without a lookup");
    const verdict = checkClearances(label, route, ctx, engine, lookups.rewind());
    if (verdict !== MISS) return verdict;
  }
}

/** One run of the checks: undefined, every clearance grants the label; MISS, a lookup is not cached. */
export function checkClearances(
  label: Label,
  route: Route,
  ctx: DirectionContext,
  engine: LabelEngine,
  lookups: ClearanceLookups,
): ClearanceRefusal | undefined | Miss {
  const d = ctx.direction;
  const directionClearance =
    d.rules.clearance !== undefined
      ? lookups.configured(d.rules.clearance)
      : lookups.peer(d.name === "outbound" ? route.toDomain : route.fromDomain, d.name);
  if (directionClearance === MISS) return MISS;
  if (directionClearance.status !== "known")
    return { reason: "direction-clearance-unknown", detail: directionClearance.status };
  const byDirection = engine.refusal(label, directionClearance.clearance);
  if (byDirection) return { reason: "direction-clearance", detail: byDirection };

  const senderClearance = senderClearanceOf(route, ctx, lookups, directionClearance);
  if (senderClearance === MISS) return MISS;
  // No clearance is the nil clearance: refused like an insufficient one. Unknown: cannot decide now.
  if (senderClearance.status === "none") return { reason: "sender-clearance", detail: "nil clearance" };
  if (senderClearance.status !== "known")
    return { reason: "sender-clearance-unknown", detail: senderClearance.status };
  const bySender = engine.refusal(label, senderClearance.clearance);
  if (bySender) return { reason: "sender-clearance", detail: bySender };

  // XEP-0258 §"Use in XMPP": the recipient's clearance too (recipient.ts says whose, and when).
  const recipient = recipientClearances(route, d, ctx.receiving.id, lookups, ctx.sending.id);
  if (recipient === MISS) return MISS;
  if (recipient.status === "none") return { reason: "recipient-clearance", detail: "nil clearance" };
  if (recipient.status === "unknown") return { reason: "recipient-clearance-unknown", detail: "unknown" };
  for (const c of recipient.clearances) {
    const byRecipient = engine.refusal(label, c);
    if (byRecipient) return { reason: "recipient-clearance", detail: byRecipient };
  }
  return undefined;
}

function senderClearanceOf(
  route: Route,
  ctx: DirectionContext,
  lookups: ClearanceLookups,
  directionClearance: ClearanceState,
): ClearanceState | Miss {
  const d = ctx.direction;
  if (d.name === "outbound") {
    // A local user is judged on their own clearance — none means the nil clearance (XEP-0258
    // §"Use in XMPP"), never the domain's. Domain JIDs (the server itself, its services) and rooms
    // of the side's MUC domains use that domain's service clearance.
    // Rooms of a MUC domain configured on the sending side (`mucDomains`) speak for their service.
    const isUser = route.fromBare !== route.fromDomain && !d.from.mucDomains.includes(route.fromDomain);
    if (isUser) return lookups.user(route.fromBare, ctx.sending.id);
    return lookups.service(route.fromDomain);
  }
  // A remote sender gets its domain's clearance: configured, the store's service clearance, or the peer's.
  if (d.from.senderClearance !== undefined) return lookups.configured(d.from.senderClearance);
  const service = lookups.service(route.fromDomain);
  if (service === MISS) return MISS;
  return service.status === "none" ? directionClearance : service;
}
