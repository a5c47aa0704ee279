// FLOT, "First Line Of Text" (XEP-0258 §5 "Display Markings", for clients without label support):
// the policy's display marking as the first line of every human-readable text a message carries,
// so a client that shows no labels still shows the marking with what it shows. The texts are
// listed in FLOT_TEXTS (a message's body and subject, RFC 6121 §5.2.3–5.2.4); another text is
// added there. An XEP-0071 XHTML-IM body cannot be marked (a client shows it instead of the plain
// body), so a FLOT copy never carries one.
import { isElement, xml, NS_XHTML_IM, type Element } from "@cordon/component";

/** The human-readable texts of a message, by element name (in the stanza's namespace), that get the marking. */
export const FLOT_TEXTS: ReadonlySet<string> = new Set(["body", "subject"]);

/** A text with the marking as its first line. */
export function flotText(marking: string, text: string): string {
  return `${marking}\n${text}`;
}

/** Whether `child` is an XEP-0071 XHTML-IM body, which a FLOT copy leaves out. */
export function isRichBody(child: Element): boolean {
  return child.name === "html" && child.attrs.xmlns === NS_XHTML_IM;
}

/**
 * A message's children for a label-unaware recipient: each FLOT text replaced by a copy with the
 * marking as its first line (`inStanzaNs` says which children are in the stanza's namespace), the
 * XHTML-IM body removed. Returns whether one was removed.
 */
export function addFlot(message: Element, marking: string, inStanzaNs: (el: Element) => boolean): boolean {
  let removedRich = false;
  message.children = message.children.flatMap((c): (typeof message.children)[number][] => {
    if (!isElement(c)) return [c];
    if (isRichBody(c)) {
      removedRich = true;
      return [];
    }
    if (!FLOT_TEXTS.has(c.name) || !inStanzaNs(c)) return [c];
    const marked = xml(c.name, { ...c.attrs }, flotText(marking, c.getText()));
    marked.parent = message;
    return [marked];
  });
  return removedRich;
}
