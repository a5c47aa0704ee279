// What we know of an entity's clearance at a given moment. "unknown" is not "none": it means we
// cannot decide now (store or directory down), and callers must fail closed.
import type { Clearance } from "@cordon/policy";

export type ClearanceState =
  | { readonly kind: "known"; readonly clearance: Clearance; readonly fingerprint: string }
  | { readonly kind: "none" }
  | { readonly kind: "unknown"; readonly reason: string };

export const NO_CLEARANCE: ClearanceState = Object.freeze({ kind: "none" });

export function unknownClearance(reason: string): ClearanceState {
  return { kind: "unknown", reason };
}

/** Same answer? (used to detect a clearance change worth acting on) */
export function sameClearanceState(a: ClearanceState, b: ClearanceState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "known" && b.kind === "known")
    return a.fingerprint === b.fingerprint && a.clearance.policy === b.clearance.policy;
  return true;
}
