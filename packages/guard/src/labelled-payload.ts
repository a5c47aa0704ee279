// The labelled-payload rule for presence and IQ stanzas between users (issue 17, open finding F3;
// XEP-0258 labels messages: §"Use in Presence" leaves presence unlabelled, and no label governs an
// IQ payload): a presence or IQ that carries a <securitylabel/> — at its top level or hidden in
// its payload — or any content that could hide one (an embedded or forwarded stanza, a prefixed
// name, nesting deeper than read) is not delivered: its payload would reach the recipient
// without any clearance check. The modules ask only about a presence or IQ that may carry a label;
// every other one goes on unasked. The sender gets a fixed error; an error or result is dropped.
import { hiddenContent, isElement, NS_SEC_LABEL, type Element } from "@cordon/component";
import type { RefusalReason } from "@cordon/rules";

/** Why a presence or IQ is not delivered, or undefined when it goes on. */
export type PayloadProblem = Extract<
  RefusalReason,
  "payload-labelled" | "nested-label" | "nested-stanza" | "prefixed-name" | "too-deep"
>;

/** The problem with a presence or IQ payload, or undefined when it carries nothing labelled. */
export function labelledPayload(stanza: Element, maxDepth: number): PayloadProblem | undefined {
  if (
    stanza.children.some((c) => isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL)
  )
    return "payload-labelled";
  return hiddenContent(stanza, maxDepth);
}
