// The archive rule (issue 17; XEP-0313 §4.2 "Sending the results"): a user's own server archive
// never hands a user what their current clearance does not grant. Each result the server is about
// to send for a query — a message from the user's own bare JID to the asking session, holding
// <result xmlns='urn:xmpp:mam:2'><forwarded><delay/><message/></forwarded></result> — is decided
// on the archived message's label (unlabelled: the default label) against the user's clearance as
// it is now, the server's clearance, and the asking session's location; it is delivered with the
// archived message's label re-encoded from the decided one (the sender's own archive keeps what
// the sender wrote), in FLOT form for a client that shows no labels. A result that is not granted,
// cannot be decided (a clearance that cannot be read) or cannot be read is dropped: a result is
// never answered with an error, and the client's page simply holds fewer results. A result that
// names another message (a reaction, a correction, a reply) is held to every message it names too.
import { isElement, parseJid, toBare, xml, NS_FORWARD, type Element } from "@cordon/component";
import { oneToOne } from "@cordon/rules";
import type { DecideContext, GuardDecision } from "./decide.js";
import { delivered, flotForm } from "./message-forms.js";
import { conversationKey } from "./message-references.js";
import type { CheckRequest } from "./protocol.js";

export const NS_MAM = "urn:xmpp:mam:2";

const DROP = (reason: GuardDecision["reason"]): GuardDecision => ({ verdict: { action: "drop" }, reason });

/** The archived message a result holds, with its wrapper parts, or undefined when it is not one. */
function archived(result: Element): { item: Element; wrapper: Element; forwarded: Element } | undefined {
  const wrappers = result.children.filter(isElement);
  const wrapper = wrappers[0];
  if (wrappers.length !== 1 || wrapper?.name !== "result" || wrapper.attrs.xmlns !== NS_MAM) return undefined;
  const forwarded = wrapper.getChild("forwarded", NS_FORWARD);
  const items = forwarded?.children.filter((c): c is Element => isElement(c) && c.name === "message") ?? [];
  const item = items[0];
  if (!forwarded || items.length !== 1 || !item) return undefined;
  return { item, wrapper, forwarded };
}

/** The decision about one archive result `server` is about to send to one of its users. */
export async function decideArchiveResult(
  context: DecideContext,
  server: string,
  request: CheckRequest,
): Promise<GuardDecision> {
  const result = request.message;
  const from = parseJid(result.attrs.from ?? "");
  const to = parseJid(result.attrs.to ?? "");
  // From the user's own archive (their bare JID) to one of their sessions on the asking server.
  if (
    !from?.local ||
    from.resource ||
    !to ||
    to.domain !== server ||
    toBare(result.attrs.to ?? "") !== `${from.local}@${from.domain}`
  )
    return DROP("addressing");
  const parts = archived(result);
  if (!parts) return DROP("label:nested-stanza");

  const read = context.labels.of(parts.item, {
    accept: context.accept,
    defaultLabel: context.defaultLabel,
    maxDepth: context.maxDepth,
  });
  if (!read.ok) return DROP(`label:${read.problem}`);
  const label = read.label;
  const user = `${from.local}@${from.domain}`;
  const [reader, serverState] = await Promise.all([
    context.clearances.user(user, label.policy.id),
    context.clearances.service(server),
  ]);
  // The reader is the user as they are cleared now (sender and recipient of their own archive).
  const verdict = oneToOne(context.labels.translations, label, {
    sender: reader,
    server: serverState,
    recipient: reader,
  });
  if (!verdict.ok) return DROP(verdict.unknown ? "recipient-unknown" : "recipient-not-cleared");
  const session = request.sessions.find((s) => s.resource === to.resource);
  const { locations, labels } = context;
  if (locations.grants(labels.translations, label, session?.ip) !== "granted")
    return DROP("recipient-location");
  // The reference rule (message-references.ts): an archived reaction, correction or reply goes only
  // where every message it names may go (found in review adv12g, e2e guard-attack12 G7).
  const conversation = conversationKey(
    toBare(parts.item.attrs.from ?? "") ?? "",
    toBare(parts.item.attrs.to ?? "") ?? "",
  );
  const referenced = context.references?.referenced(conversation, parts.item) ?? { ok: true, labels: [] };
  if (!referenced.ok) return DROP(referenced.reason);
  for (const named of referenced.labels) {
    const granted = oneToOne(labels.translations, named, {
      sender: reader,
      server: serverState,
      recipient: reader,
    });
    if (!granted.ok)
      return DROP(granted.unknown ? "reference-recipient-unknown" : "reference-recipient-not-cleared");
    if (locations.grants(labels.translations, named, session?.ip) !== "granted")
      return DROP("recipient-location");
  }

  const labelled = delivered(context, parts.item, label);
  const shown = session?.labels === false ? flotForm(context, labelled, label) : labelled;
  const forwarded = xml(
    "forwarded",
    { ...parts.forwarded.attrs },
    ...parts.forwarded.children.filter((c) => !(isElement(c) && c.name === "message")),
    shown,
  );
  const wrapper = xml("result", { ...parts.wrapper.attrs }, forwarded);
  return {
    verdict: { action: "deliver", message: xml("message", { ...result.attrs }, wrapper) },
    reason: "deliver",
  };
}
