// What a stanza carries below its top level that the label checks would not see (XEP-0258 §"Use
// in XMPP": only a stanza's own <securitylabel/> labels it). A label nested in a payload child, or
// a stanza wrapped inside another (XEP-0297 <forwarded/>, a <message/> in an extension) would be
// reflected under the outer label, so such stanzas are refused, as the relay refuses them
// (packages/relay/src/decide.ts). Prefixed element names are refused too: the label and body
// lookups see through a prefix but the reflection filters do not. The walk is iterative and
// bounded, so a deeply nested stanza is refused before anything serialises it recursively.
import { isElement, type Element } from "@cordon/component";
import { NS_SEC_LABEL } from "../namespaces.js";

export type NestedProblem = "nested-label" | "nested-stanza" | "prefixed" | "too-deep";

/** Deeper than any real payload (XHTML-IM included) and far from the serialiser's stack limit. */
export const MAX_PAYLOAD_DEPTH = 32;

const NS_FORWARD = "urn:xmpp:forward:0";

/** Why `stanza`'s payload cannot be accepted as it is, or undefined when it can. */
export function nestedContent(stanza: Element): NestedProblem | undefined {
  const stack: { el: Element; depth: number }[] = [{ el: stanza, depth: 0 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    for (const c of next.el.children) {
      if (!isElement(c)) continue;
      if (c.name.includes(":")) return "prefixed";
      if (c.name === "securitylabel" && (next.depth > 0 || c.attrs.xmlns !== NS_SEC_LABEL)) return "nested-label";
      if (c.name === "forwarded" && c.attrs.xmlns === NS_FORWARD) return "nested-stanza";
      if (c.name === "message" || c.name === "presence" || c.name === "iq") return "nested-stanza";
      if (next.depth + 1 >= MAX_PAYLOAD_DEPTH) return "too-deep";
      stack.push({ el: c, depth: next.depth + 1 });
    }
  }
  return undefined;
}

/** The stanza-error text for each problem (never naming the content). */
export const NESTED_TEXT: Record<NestedProblem, string> = {
  "nested-label": "a security label is accepted only as a direct child of the stanza",
  "nested-stanza": "forwarded or embedded stanzas are not accepted here",
  prefixed: "prefixed element names are not accepted",
  "too-deep": "the stanza's payload is nested too deeply",
};
