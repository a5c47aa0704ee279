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

const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_CONFERENCE = "jabber:x:conference";
const NS_DATA = "jabber:x:data";
const NS_OOB = "jabber:x:oob";

/**
 * FLOT beyond the body and subject: other texts of a message that a label-unaware client shows on
 * their own, each given the marking as its first line — the reason of a mediated invitation or
 * decline (XEP-0045 §7.8.2, §7.8.2.2: added when absent, since the client shows the invitation
 * anyway), the reason of a direct invitation (XEP-0249 §2, likewise), the title and instructions
 * of a data form (XEP-0004 §3.1: a title is added when absent) and the description of an
 * out-of-band link (XEP-0066 §3, `<desc/>`, added when absent). Marks `message` in place: each
 * child it marks is replaced by a copy, never changed itself — a message's children may be shared
 * with the stanza it was copied from (the relay's copy shares them: found in review, adv42, the
 * invitation's reason was marked in the stanza the relay's connection handed over too).
 */
export function markShownTexts(message: Element, marking: string): void {
  const children = message.children;
  for (let i = 0; i < children.length; i++) {
    const c = children[i]!;
    if (!isElement(c)) continue;
    const ns = c.attrs.xmlns;
    if (ns === NS_CONFERENCE) {
      const marked = copyOf(c, message);
      marked.attrs.reason = flotText(marking, c.attrs.reason ?? "");
      children[i] = marked;
    } else if (ns === NS_MUC_USER) {
      const marked = copyOf(c, message);
      marked.children = c.children.map((invite) => {
        if (!isElement(invite) || (invite.name !== "invite" && invite.name !== "decline")) return invite;
        const copy = copyOf(invite, marked);
        markText(copy, "reason", marking, true);
        return copy;
      });
      children[i] = marked;
    } else if (ns === NS_DATA) {
      const marked = copyOf(c, message);
      markText(marked, "title", marking, true);
      markText(marked, "instructions", marking, false);
      children[i] = marked;
    } else if (ns === NS_OOB) {
      const marked = copyOf(c, message);
      markText(marked, "desc", marking, true);
      children[i] = marked;
    }
  }
}

/** A new element with `el`'s attributes and child list (both copied; the children shared) under `parent`. */
function copyOf(el: Element, parent: Element): Element {
  const copy = xml(el.name);
  copy.attrs = { ...el.attrs };
  copy.children = el.children.slice();
  copy.parent = parent;
  return copy;
}

/** Replaces each `name` child (no namespace of its own) with its marked text; adds one when asked and absent. */
function markText(parent: Element, name: string, marking: string, addIfAbsent: boolean): void {
  let found = false;
  parent.children = parent.children.map((c) => {
    if (!isElement(c) || c.name !== name || c.attrs.xmlns !== undefined) return c;
    found = true;
    const marked = xml(name, {}, flotText(marking, c.getText()));
    marked.parent = parent;
    return marked;
  });
  if (!found && addIfAbsent) {
    const added = xml(name, {}, marking);
    added.parent = parent;
    parent.children.unshift(added);
  }
}

/**
 * Payloads that carry nothing a client shows as text: XEP-0085 chat states, XEP-0184 receipts,
 * XEP-0333 markers, XEP-0334 hints, XEP-0359 ids, XEP-0421 occupant ids, XEP-0203 delays, XEP-0258
 * labels, XEP-0424 retractions. Any other payload may be shown (a link, a reaction, a form, an
 * unknown extension).
 */
export const TEXTLESS_NAMESPACES: ReadonlySet<string> = new Set([
  "http://jabber.org/protocol/chatstates",
  "urn:xmpp:receipts",
  "urn:xmpp:chat-markers:0",
  "urn:xmpp:hints",
  "urn:xmpp:sid:0",
  "urn:xmpp:occupant-id:0",
  "urn:xmpp:delay",
  "urn:xmpp:sec-label:0",
  "urn:xmpp:message-retract:0",
  "urn:xmpp:message-retract:1",
]);

/**
 * Whether a FLOT copy of a message without a body needs one carrying the marking alone: it carries
 * a payload a client may show (anything but TEXTLESS_NAMESPACES; `inStanzaNs` children other than
 * a thread count too), so the marking is shown with it (issue 15: an OOB link without a body).
 */
export function needsMarkingBody(message: Element, inStanzaNs: (el: Element) => boolean): boolean {
  let shown = false;
  for (const c of message.children) {
    if (!isElement(c)) continue;
    if (inStanzaNs(c)) {
      if (c.name === "body") return false;
      if (c.name !== "thread") shown = true;
    } else if (!TEXTLESS_NAMESPACES.has(c.attrs.xmlns ?? "")) shown = true;
  }
  return shown;
}
