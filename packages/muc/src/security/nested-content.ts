// What a stanza carries below its top level that the label checks would not see: refused, as the
// relay refuses it (the rule is @cordon/component's `hiddenContent`). The walk is bounded, so a
// deeply nested stanza is refused before anything serialises it recursively.
import { hiddenContent, type Element, type HiddenContent } from "@cordon/component";

export type NestedProblem = HiddenContent;

/** Deeper than any real payload (XHTML-IM included) and far from the serialiser's stack limit. */
export const MAX_PAYLOAD_DEPTH = 32;

/** Why `stanza`'s payload cannot be accepted as it is, or undefined when it can. */
export function nestedContent(stanza: Element): NestedProblem | undefined {
  return hiddenContent(stanza, MAX_PAYLOAD_DEPTH);
}
