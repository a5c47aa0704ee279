// Access Control Decision Function (ITU-T X.841 §8.2; rules as in docs/spif.md §5):
// the classification must be one the clearance holds (set membership), every restrictive category must be held,
// each permissive group needs one held category, informative categories are ignored.
import type { Clearance } from "./clearance.js";
import type { Label } from "./label.js";

export type AcdfReason =
  | "CORDON_ACDF_GRANTED"
  | "CORDON_ACDF_NO_LABEL"
  | "CORDON_ACDF_NO_CLEARANCE"
  | "CORDON_ACDF_POLICY_MISMATCH"
  | "CORDON_ACDF_CLASSIFICATION"
  | "CORDON_ACDF_RESTRICTIVE_CATEGORY"
  | "CORDON_ACDF_PERMISSIVE_CATEGORY";

export interface AcdfDecision {
  readonly granted: boolean;
  readonly reason: AcdfReason;
}

const d = (granted: boolean, reason: AcdfReason): AcdfDecision => Object.freeze({ granted, reason });
export const GRANTED = d(true, "CORDON_ACDF_GRANTED");
const NO_LABEL = d(false, "CORDON_ACDF_NO_LABEL");
const NO_CLEARANCE = d(false, "CORDON_ACDF_NO_CLEARANCE");
const MISMATCH = d(false, "CORDON_ACDF_POLICY_MISMATCH");
const CLASSIFICATION = d(false, "CORDON_ACDF_CLASSIFICATION");
const RESTRICTIVE = d(false, "CORDON_ACDF_RESTRICTIVE_CATEGORY");
const PERMISSIVE = d(false, "CORDON_ACDF_PERMISSIVE_CATEGORY");

/**
 * Decide whether `clearance` grants access to data labelled `label`. Nil inputs are denied.
 * Both must be bound to the same Policy object (after a hot reload, objects from the old policy
 * are denied with CORDON_ACDF_POLICY_MISMATCH: re-parse them). Use translateLabel first for equivalent policies.
 */
export function acdf(label: Label | null | undefined, clearance: Clearance | null | undefined): AcdfDecision {
  if (!label) return NO_LABEL;
  if (!clearance) return NO_CLEARANCE;
  if (label.policy !== clearance.policy) return MISMATCH;
  if (clearance.classBits[label.classification.index] !== 1) return CLASSIFICATION;
  const held = clearance.catBits;
  const r = label.acdf.restrictive;
  for (let i = 0; i < r.length; i += 2) {
    const m = r[i + 1]!;
    if ((held[r[i]!]! & m) !== m) return RESTRICTIVE;
  }
  const groups = label.acdf.permissive;
  for (let g = 0; g < groups.length; g++) {
    const p = groups[g]!;
    let hit = false;
    for (let i = 0; i < p.length; i += 2) {
      if ((held[p[i]!]! & p[i + 1]!) !== 0) {
        hit = true;
        break;
      }
    }
    if (!hit) return PERMISSIVE;
  }
  return GRANTED;
}

/** "Is label L within clearance C": the same decision as the ACDF, as a boolean. */
export function clearanceGrants(
  clearance: Clearance | null | undefined,
  label: Label | null | undefined,
): boolean {
  return acdf(label, clearance).granted;
}
