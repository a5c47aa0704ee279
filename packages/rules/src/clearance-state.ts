// What a component knows of an entity's clearance at a given moment: the store's tri-state
// (@cordon/store ClearanceAnswer) holding a parsed clearance. "unknown" is not "none": it means we
// cannot decide now (store or directory down, an unreadable value), and callers must fail closed;
// "none" is the nil clearance, which grants nothing (XEP-0258 §"Use in XMPP").
import type { Clearance } from "@cordon/policy";
import type { ClearanceAnswer } from "@cordon/store";

/** A parsed clearance answer; a known one carries the fingerprint of the value it was read from. */
export type ClearanceState = ClearanceAnswer<Clearance, { readonly fingerprint: string }>;

export const NO_CLEARANCE: ClearanceState = Object.freeze({ status: "none" });

export function unknownClearance(reason: string): ClearanceState {
  return { status: "unknown", reason };
}

/** The clearance a state grants with: a known one's, else undefined (the nil clearance). */
export function grantingClearance(state: ClearanceState): Clearance | undefined {
  return state.status === "known" ? state.clearance : undefined;
}

/** Same answer? (used to detect a clearance change worth acting on) */
export function sameClearanceState(a: ClearanceState, b: ClearanceState): boolean {
  if (a.status !== b.status) return false;
  if (a.status === "known" && b.status === "known")
    return a.fingerprint === b.fingerprint && a.clearance.policy === b.clearance.policy;
  return true;
}
