// FLOT beyond the body and subject (XEP-0258 §5 "Display Markings"): other texts of a message that
// a label-unaware client shows on their own, each given the marking as its first line — the reason
// of a mediated invitation or decline (XEP-0045 §7.8.2, §7.8.2.2: added when absent, since the
// client shows the invitation anyway), the reason of a direct invitation (XEP-0249 §2, likewise) and
// the title and instructions of a data form (XEP-0004 §3.1: a title is added when absent).
import { isElement, xml, type Element } from "@cordon/component";
import { flotText } from "@cordon/rules";

const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_CONFERENCE = "jabber:x:conference";
const NS_DATA = "jabber:x:data";

/** Marks, in place, the texts of `message`'s payloads that a client shows apart from its body. */
export function markShownTexts(message: Element, marking: string): void {
  for (const c of message.children) {
    if (!isElement(c)) continue;
    const ns = c.attrs.xmlns;
    if (ns === NS_CONFERENCE) c.attrs.reason = flotText(marking, c.attrs.reason ?? "");
    else if (ns === NS_MUC_USER) {
      for (const invite of c.getChildElements())
        if (invite.name === "invite" || invite.name === "decline") markText(invite, "reason", marking, true);
    } else if (ns === NS_DATA) {
      markText(c, "title", marking, true);
      markText(c, "instructions", marking, false);
    }
  }
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
