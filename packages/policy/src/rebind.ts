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
