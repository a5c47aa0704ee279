// The relay's own copy of a stanza: a new top-level element (attributes and child list copied)
// sharing the child elements. Every edit the relay makes replaces top-level children (folding,
// stripping, label replacement, FLOT builds a new body), so the element the connection handed
// over is never changed, without the cost of a deep copy per stanza.
import { xml, type Element } from "@cordon/component";

export function copyElement(el: Element): Element {
  const out = xml(el.name, { ...el.attrs });
  out.children = el.children.slice();
  return out;
}
