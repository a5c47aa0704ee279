// Content a component's checks would not see, or could misread, below a stanza's top level.
// XEP-0258 §"Use in XMPP" labels a stanza by its own <securitylabel/> only, so a label nested in a
// payload, or a stanza wrapped in another (XEP-0297 <forwarded/>, a <message/> in an extension),
// would pass under the outer label. A namespace prefix (Namespaces in XML 1.0 §4,
// https://www.w3.org/TR/xml-names/#ns-qualnames) makes `<x:body xmlns:x='jabber:client'/>` a body
// and `<x:q xmlns:x='urn:a' xmlns='urn:b'/>` an urn:a element, while lookups compare names and
// `xmlns` attributes. Nesting beyond `maxDepth` is refused before anything walks or serialises the
// tree recursively. The walk itself is iterative.
import { isElement, type Element } from "./xml.js";
import { NS_FORWARD, NS_SEC_LABEL } from "./namespaces.js";

export type HiddenContent = "nested-label" | "nested-stanza" | "prefixed-name" | "too-deep";

const STANZAS = new Set(["message", "presence", "iq"]);

/**
 * Why `stanza` carries hidden content, or undefined. `maxDepth`: how deep its elements may nest
 * (its children are at depth 1).
 */
export function hiddenContent(stanza: Element, maxDepth: number): HiddenContent | undefined {
  // Iterative, two parallel stacks (elements and their depths): no array per element visited.
  const elements: Element[] = [stanza];
  const depths: number[] = [0];
  for (let el = elements.pop(); el; el = elements.pop()) {
    const depth = depths.pop()!;
    for (const name in el.attrs) {
      if (name.includes(":") && !name.startsWith("xml:") && !name.startsWith("xmlns:"))
        return "prefixed-name";
    }
    for (const c of el.children) {
      if (!isElement(c)) continue;
      if (c.name.includes(":")) return "prefixed-name";
      // Only a direct child in the XEP-0258 namespace is the stanza's own label.
      if (c.name === "securitylabel" && (depth > 0 || c.attrs.xmlns !== NS_SEC_LABEL)) return "nested-label";
      if ((c.name === "forwarded" && c.attrs.xmlns === NS_FORWARD) || STANZAS.has(c.name))
        return "nested-stanza";
      if (depth + 1 > maxDepth) return "too-deep";
      elements.push(c);
      depths.push(depth + 1);
    }
  }
  return undefined;
}
