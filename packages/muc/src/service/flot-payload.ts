// FLOT for the payload beside the body (XEP-0258 §5 "Display Markings", issue 15): a label-unaware
// recipient must not see labelled text without its marking in anything its client shows. The one
// FLOT renderer is @cordon/rules (flot.ts): the payload a message carries besides its body (a
// private message's <subject/>, an OOB link's <desc/>, an invitation's reason, a form's title) is
// marked there, and a message without a body that carries something a client may show gets a body
// holding the marking alone.
import { parseElement, serialise, type Element } from "@cordon/component";
import { addFlot, markShownTexts, needsMarkingBody } from "@cordon/rules";
import { bodyXml } from "./stanzas.js";

const inStanzaNs = (el: Element): boolean =>
  el.attrs.xmlns === undefined || el.attrs.xmlns === "jabber:client";

/**
 * The serialised payload `extra` (children of a message, as the room keeps them) as a FLOT copy
 * carries it, with a marking-only body first when the message has none and shows something.
 * Payload that cannot be read back is left out (fail closed).
 */
export function flotPayload(extra: string, marking: string, hasBody: boolean): string {
  if (extra === "") return "";
  let wrapper: Element;
  try {
    wrapper = parseElement(`<message>${extra}</message>`);
  } catch {
    return hasBody ? "" : bodyXml(marking);
  }
  const needsBody = !hasBody && needsMarkingBody(wrapper, inStanzaNs);
  addFlot(wrapper, marking, inStanzaNs);
  markShownTexts(wrapper, marking);
  const marked = wrapper.children.map((c) => (typeof c === "string" ? "" : serialise(c))).join("");
  return needsBody ? bodyXml(marking) + marked : marked;
}
