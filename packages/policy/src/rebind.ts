// A label or clearance read again under the policies a registry holds now. A policy hot reload
// (PolicyRegistry.replaceAll) switches to new Policy objects; a label or clearance still bound to an
// old one is granted by no clearance of the new ones (acdf.ts: policy mismatch) and judged valid
// under the old policy. Every component that keeps one across a reload (the MUC's policy-reload.ts,
// the guard's policy-rebind.ts, the catalog's guard default label) re-reads it here: through its
// encoding (ESS for labels, BER for clearances), as any stored value is read. Throws the parser's
// error when it no longer reads (the policy is gone, or no longer defines what it holds).
import type { Clearance } from "./clearance.js";
import type { Label } from "./label.js";
import type { PolicyRegistry } from "./registry.js";
import type { Policy } from "./spif/model.js";
import { parseClearance, parseLabelData } from "./formats/detect.js";
import { encodeEssLabel } from "./formats/ess.js";
import { encodeBerClearance } from "./formats/clearance-ber.js";

/** `label` under the policies `registry` holds now. Throws when it does not read under them. */
export function rebindLabel(label: Label, registry: PolicyRegistry): Label {
  return parseLabelData(encodeEssLabel(label), registry);
}

/** `clearance` under the policies `registry` holds now. Throws when it does not read under them. */
export function rebindClearance(clearance: Clearance, registry: PolicyRegistry): Clearance {
  return parseClearance(encodeBerClearance(clearance), registry);
}

/**
 * Whether `policy` is the Policy object `registry` holds now for its OID. A label or clearance
 * bound to any other (a policy a reload removed, or the object a reload replaced) is one a
 * re-read could not re-bind: it grants nothing and, as a default label, is not applied
 * (adv15: one kept after its policy was removed was still translated into an equivalent policy
 * still loaded, through the old policy's own equivalence table, and granted).
 */
export function isLoaded(policy: Policy, registry: PolicyRegistry): boolean {
  return registry.byId(policy.id) === policy;
}
