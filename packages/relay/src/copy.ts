// The relay's own copy of a stanza: a new top-level element (attributes and child list copied)
// sharing the child elements. Every edit the relay makes replaces top-level children (folding,
// stripping, label replacement, FLOT builds a new body), so the element the connection handed
// over is never changed, without the cost of a deep copy per stanza.
import { xml, type Element } from "@cordon/component";

/**
 * The element is made without attributes and given a copy of the original's: `xml(name, attrs)`
 * would walk them again (ltx createElement: Object.entries, each value made a string, null ones
 * deleted), which the original's already are (parsed, or made by `xml`).
 */
export function copyElement(el: Element): Element {
  const out = xml(el.name);
  out.attrs = { ...el.attrs };
  out.children = el.children.slice();
  return out;
}
