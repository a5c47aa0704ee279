// Namespace resolution for caller-supplied XmlElementLike trees (Namespaces in XML 1.0 §6.1-6.2),
// turning them into XmlNode trees. The bindings in scope at the root are supplied by the caller.
import { LimitExceededError, MalformedEncodingError } from "../errors.js";
import { LABEL_XML_LIMITS } from "./limits.js";
import type { XmlLimits } from "./limits.js";
import { XML_NS } from "./node.js";
import type { XmlElementLike, XmlNode } from "./node.js";

/** Resolve namespaces of an element tree. `inherited` maps prefixes ("" = default) to URIs. */
export function resolveElement(
  el: XmlElementLike,
  inherited: Readonly<Record<string, string>> = {},
  limits: XmlLimits = LABEL_XML_LIMITS,
): XmlNode {
  let nodes = 0;
  const walk = (e: XmlElementLike, scope: Readonly<Record<string, string>>, depth: number): XmlNode => {
    if (++nodes > limits.maxNodes)
      throw new LimitExceededError(`XML element has more than ${limits.maxNodes} nodes`);
    if (depth > limits.maxDepth) throw new LimitExceededError(`XML nesting deeper than ${limits.maxDepth}`);
    if (typeof e.name !== "string" || e.name.length === 0)
      throw new MalformedEncodingError("Malformed XML: element without a name");
    let local = scope;
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(e.attrs ?? {})) {
      if (typeof v !== "string") continue;
      attrs[k] = v;
      if (k === "xmlns") local = { ...local, "": v };
      else if (k.startsWith("xmlns:")) local = { ...local, [k.slice(6)]: v };
    }
    const colon = e.name.indexOf(":");
    const prefix = colon < 0 ? "" : e.name.slice(0, colon);
    const name = colon < 0 ? e.name : e.name.slice(colon + 1);
    const uri = prefix === "xml" ? XML_NS : local[prefix];
    if (uri === undefined && prefix !== "")
      throw new MalformedEncodingError(`Malformed XML: unbound prefix ${prefix}`);
    const children: (XmlNode | string)[] = [];
    for (const c of e.children ?? []) {
      if (typeof c === "string") {
        if (++nodes > limits.maxNodes)
          throw new LimitExceededError(`XML element has more than ${limits.maxNodes} nodes`);
        children.push(c);
      } else children.push(walk(c, local, depth + 1));
    }
    return { name: e.name, local: name, uri: uri ?? "", attrs, children };
  };
  return walk(el, inherited, 1);
}
