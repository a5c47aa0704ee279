// The forms a delivered message takes (XEP-0258): the labelled form — every <securitylabel/>
// replaced by the decided label re-encoded with the policy's marking, never the sender's bytes or
// ESS privacy mark (§3) — and the FLOT form for a client that shows no labels (§5,
// @cordon/rules flot.ts). Used by every guard decision that delivers (decide.ts, archive-result.ts).
import { isElement, xml, NS_SEC_LABEL, type Element } from "@cordon/component";
import type { Label } from "@cordon/policy";
import { addFlot, markShownTexts, needsMarkingBody, type Markings } from "@cordon/rules";

export interface FormContext {
  readonly markings: Markings;
}

export const isLabel = (c: Element | string): boolean =>
  isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL;

const inStanzaNs = (el: Element): boolean =>
  el.attrs.xmlns === undefined || el.attrs.xmlns === "jabber:client";

/**
 * The message for a session whose client shows no labels (XEP-0258 §5, @cordon/rules flot.ts): the
 * policy's marking as the first line of every text it shows, a marking-only body when it has none
 * but shows something; the label stays for clients that read it without advertising it.
 */
export function flotForm(context: FormContext, labelled: Element, label: Label): Element {
  const marking = context.markings.marking(label, labelled.attrs["xml:lang"] ?? "");
  const out = deepCopy(labelled);
  const needsBody = needsMarkingBody(out, inStanzaNs);
  addFlot(out, marking, inStanzaNs);
  markShownTexts(out, marking);
  if (needsBody) out.children.unshift(xml("body", {}, marking));
  return out;
}

/** A copy sharing nothing with `el` (FLOT marks texts in place; the message was bounded in depth). */
function deepCopy(el: Element): Element {
  return xml(el.name, { ...el.attrs }, ...el.children.map((c) => (typeof c === "string" ? c : deepCopy(c))));
}

export function withoutLabels(message: Element): Element {
  return xml(message.name, { ...message.attrs }, ...message.children.filter((c) => !isLabel(c)));
}

/** The message as delivered: every <securitylabel/> replaced by the decided label with the policy's marking. */
export function delivered(context: FormContext, message: Element, label: Label): Element {
  // Re-encoded from the decided label (marking.ts): the sender's bytes and ESS privacy mark stay behind.
  const shared = context.markings.securityLabelElement(label, message.attrs["xml:lang"] ?? "");
  // A new top element over the shared children: the rendered label is never re-parented.
  const out = xml(shared.name, { ...shared.attrs });
  out.children = shared.children.slice();
  const children = message.children.filter((c) => !isLabel(c));
  return xml(message.name, { ...message.attrs }, ...children, out);
}
