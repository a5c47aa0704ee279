// A message one of the module's trusted components delivers to a user of a served server (issue
// 17, "Inbound across the relay"): Cordon's relay for a claimed peer domain, or a MUC not listed as
// locating its occupants itself. The component decided the message already — its label (in the
// receiving side's policy), the clearances (the relay: the direction's, the sender's and the
// recipient's; the MUC: the room's), the form (the relay's FLOT for a label-unaware side) — but it
// does not know where the recipient's sessions are; the module does. So the module asks with
// <check origin='component'> and the guard decides only what the component cannot: each recipient
// session's client location (@cordon/rules client-location.ts), on the label the component put
// (unlabelled: the default label). Nothing else is judged again and nothing is rewritten:
//   - the label must be one the policy reads (malformed, hidden, unknown: refused with its code —
//     a trusted component never writes one, so this is a bug or a forgery, not a decision);
//   - each session asked about gets the message as the component wrote it (form 'label') when its
//     location grants the label, else nothing ('none'); no FLOT of ours (the component's form
//     stands: a second marking would be shown twice);
//   - a message to one session that may not have it, or to a user none of whose sessions may: refused
//     `forbidden` back to the component (nothing of the message in the error; the relay maps it to
//     the remote sender); a stored message replayed at login stays stored (offline='1');
//   - no session at all (the user offline): delivered, to be stored — decided again per session
//     when replayed.
// No clearance is read: the question costs one round trip and no store lookup.
// A presence or IQ such a component delivers that may carry a label (the relay lets a labelled IQ
// cross, its label re-encoded: relay decide.ts) is asked about the same way (review adv17d: it
// went on unasked, and an AMBER vCard reached a session at a WHITE-only site): its label read as a
// message's (hidden content, two labels, unreadable: refused), delivered only when every session
// listed — the full JID's own, or every session of the bare JID — is at a location granting it,
// else refused `forbidden` (a result or error dropped). No form per session: it is not rewritten.
// The modules ask only about one with a top-level <securitylabel/> (a catalog's result carries
// labels as its items, and the component decided its payload).
import { parseJid, type Element, type StanzaErrorSpec } from "@cordon/component";
import { securityLabels } from "@cordon/rules";

import { messageLabel, type GuardDecision, type DecideContext, type GuardReason } from "./decide.js";
import { isLabel, withoutLabels } from "./message-forms.js";
import type { CheckRequest, SessionForm } from "./protocol.js";

/** The decision for a message a trusted component delivers (request.origin 'component'). */
export function decideComponentDelivery(
  context: DecideContext,
  request: CheckRequest,
  refuse: (reason: GuardReason, spec: StanzaErrorSpec) => GuardDecision,
  forbidden: StanzaErrorSpec,
): GuardDecision {
  const { message } = request;
  const judged = messageLabel(context, message, refuse);
  if ("decision" in judged) return judged.decision;
  const { locations, labels } = context;
  const sessions = request.sessions.map((s) => ({
    resource: s.resource,
    form: (locations.grants(labels.translations, judged.label, s.ip) === "granted"
      ? "label"
      : "none") as SessionForm,
  }));
  const to = message.attrs.to ?? "";
  const slash = to.indexOf("/");
  const target = slash >= 0 ? sessions.find((s) => s.resource === to.slice(slash + 1)) : undefined;
  const noSession =
    target?.form === "none" || (sessions.length > 0 && sessions.every((s) => s.form === "none"));
  if (noSession && request.offline !== true) return refuse("recipient-location", forbidden);
  return {
    verdict: {
      action: "deliver",
      // As written: its labels moved last, so that a compact verdict names them (protocol.ts).
      message: asWritten(message),
      ...(sessions.length > 0 ? { sessions } : {}),
    },
    reason: "deliver",
  };
}

/** The component's message as it goes on: its own children, its labels (its own bytes) last. */
function asWritten(message: Element): Element {
  const out = withoutLabels(message);
  out.children.push(...message.children.filter(isLabel));
  return out;
}

/** The decision for a presence or IQ a trusted component delivers that may carry a label (adv17d). */
export function decideComponentPayload(
  context: DecideContext,
  request: CheckRequest,
  server: string,
  refuse: (reason: GuardReason, spec: StanzaErrorSpec) => GuardDecision,
  forbidden: StanzaErrorSpec,
): GuardDecision {
  const stanza = request.message;
  const from = parseJid(stanza.attrs.from ?? "");
  const to = parseJid(stanza.attrs.to ?? "");
  if (!from || context.served.includes(from.domain) || to?.domain !== server)
    return refuse("addressing", { condition: "bad-request", type: "modify" });
  // One without a label of its own has nothing to locate (the modules ask only about a labelled one).
  if (securityLabels(stanza).length === 0)
    return { verdict: { action: "deliver", message: stanza }, reason: "deliver" };
  const judged = messageLabel(context, stanza, refuse);
  if ("decision" in judged) return judged.decision;
  const { locations, labels } = context;
  if (request.sessions.some((s) => locations.grants(labels.translations, judged.label, s.ip) !== "granted"))
    return refuse("recipient-location", forbidden);
  return { verdict: { action: "deliver", message: stanza }, reason: "deliver" };
}
