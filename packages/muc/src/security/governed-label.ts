// A <securitylabel/> the MUC stored itself (with a history entry, in a room record, or typed into a
// room form), read by the shared rule (@cordon/rules stanza-label) as a stanza's label would be:
// its form in the governing policy, every form checked. Undefined when it does not read (or asks
// for the default label).
import type { Label } from "@cordon/policy";
import type { MucContext } from "../service/context.js";

export function governedLabel(
  ctx: Pick<MucContext, "labels" | "governingPolicy">,
  securityLabelXml: string,
): Label | undefined {
  const reading = ctx.labels.read(securityLabelXml, [ctx.governingPolicy]);
  return reading.ok ? reading.label : undefined;
}
