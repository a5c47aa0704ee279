// The ids a message names (the reference rule of the MUC, packages/muc/src/security/
// message-references.ts, and of one-to-one messages, packages/guard/src/message-references.ts): an
// XEP-0308 correction (<replace id/>), an XEP-0461 reply, an XEP-0444 reaction, an XEP-0184 receipt,
// an XEP-0333 marker, an XEP-0424 retraction, any payload element naming a message by its id.
import { isElement, type Element } from "@cordon/component";

/**
 * The `id` of every element below the top level of `stanza`, except the top-level children in one
 * of `skipNamespaces` (what the server or the service sets itself: labels, XEP-0359 ids, delays...),
 * looked at down to `maxDepth`. Undefined when there are more than `max`.
 */
export function referencedIds(
  stanza: Element,
  skipNamespaces: ReadonlySet<string>,
  max: number,
  maxDepth = 8,
): string[] | undefined {
  const ids = new Set<string>();
  const walk = (el: Element, depth: number): boolean => {
    for (const child of el.children) {
      if (!isElement(child)) continue;
      const ns = child.attrs.xmlns;
      if (depth === 0 && ns !== undefined && skipNamespaces.has(ns)) continue;
      const id = child.attrs.id;
      if (id) ids.add(id);
      if (ids.size > max) return false;
      if (depth < maxDepth && !walk(child, depth + 1)) return false;
    }
    return true;
  };
  return walk(stanza, 0) ? [...ids] : undefined;
}
