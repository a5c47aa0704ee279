// The guard's decision about one message delivered to a user of a served server (issue 17; the
// "core SEF" of label enforcement in an XMPP server): its effective label (@cordon/rules
// StanzaLabels: unlabelled takes the default label, none configured → refused), then the
// one-to-one rule (@cordon/rules one-to-one.ts: sender, server and recipient clearances). A
// message delivered carries the label re-encoded from the decided one with the policy's marking
// (XEP-0258 §3: the marking shown is the policy's, never the sender's); a refused one is answered
// with an error that carries nothing of it (RFC 6120 §8.3); an error message is never answered
// (RFC 6120 §8.3.1): refused, it is dropped — and a labelled one is always dropped.
import { errorReply, toBare, parseJid, type Element, type StanzaErrorSpec } from "@cordon/component";
import type { Label } from "@cordon/policy";
import {
  oneToOne,
  recipientRefused,
  refusalError,
  type ClearanceReader,
  type ClientLocations,
  type Markings,
  type OneToOneParty,
  type StanzaLabels,
} from "@cordon/rules";
import { decideArchiveResult } from "./archive-result.js";
import { decideComponentDelivery, decideComponentPayload } from "./component-delivery.js";
import { labelledPayload } from "./labelled-payload.js";
import { delivered, flotForm, isLabel, withoutLabels } from "./message-forms.js";
import { conversationKey, type ConversationReferences } from "./message-references.js";
import { destinationClearance } from "./outbound.js";
import type { CheckRequest, SessionForm, Verdict } from "./protocol.js";

/** Why a message was refused or dropped, as counted in `cordon_decisions_total{component="guard"}`. */
export type GuardReason =
  | "addressing"
  | "labelled-error"
  | `label:${string}`
  | `${OneToOneParty}-unknown`
  | `${OneToOneParty}-not-cleared`
  | "sender-location"
  | "recipient-location"
  | "too-many-references"
  | "references-forgotten"
  | `reference-${OneToOneParty}-not-cleared`
  | `reference-${OneToOneParty}-unknown`;

export interface GuardDecision {
  readonly verdict: Verdict;
  /** "deliver", or why not. */
  readonly reason: "deliver" | GuardReason;
  /** The marking the FLOT form was rendered with, when there is one (verdict-cache.ts checks it). */
  readonly flotMarking?: string;
}

export interface DecideContext {
  readonly labels: StanzaLabels;
  readonly markings: Markings;
  readonly clearances: ClearanceReader;
  /** OIDs of the policies labels are accepted in, preferred first. */
  readonly accept: readonly string[];
  /** The label of an unlabelled message; undefined: refused. */
  readonly defaultLabel: Label | undefined;
  /** The served domains: a sender of any of them is a local user (virtual hosts of one server). */
  readonly served: readonly string[];
  /** How deep a message's elements may nest below it. */
  readonly maxDepth: number;
  /** The client-location rule (@cordon/rules client-location.ts): a clearance per IP range. */
  readonly locations: ClientLocations;
  /** The messages delivered per conversation, for the reference rule (message-references.ts). */
  readonly references?: ConversationReferences;
}

/** Ids copied into an error reply: printable ASCII, at most this long (never an unbounded attribute). */
const MAX_ERROR_ID = 128;
const PRINTABLE_ID = /^[\x21-\x7e]+$/;

const FORBIDDEN: StanzaErrorSpec = {
  condition: "forbidden",
  type: "auth",
  text: "the message's security label is not granted to every party",
};
const UNKNOWN: StanzaErrorSpec = {
  condition: "resource-constraint",
  type: "wait",
  text: "a clearance cannot be read now; try again later",
};
const ADDRESSING: StanzaErrorSpec = { condition: "bad-request", type: "modify" };
const TOO_MANY_REFERENCES: StanzaErrorSpec = {
  condition: "not-acceptable",
  type: "modify",
  text: "the message names too many ids",
};

/** The decision for a message the server `server` is about to deliver to one of its users. */
export async function decide(
  context: DecideContext,
  server: string,
  request: CheckRequest,
): Promise<GuardDecision> {
  const { message } = request;
  const isError = message.attrs.type === "error";
  const refuse = (reason: GuardReason, spec: StanzaErrorSpec): GuardDecision =>
    isError
      ? { verdict: { action: "drop" }, reason }
      : { verdict: { action: "refuse", error: refusal(message, spec) }, reason };

  const from = parseJid(message.attrs.from ?? "");
  if (message.name !== "message")
    return request.origin === "component"
      ? decideComponentPayload(context, request, server, refuseStanza(message, isError), FORBIDDEN)
      : payload(context, request, refuseStanza(message, isError));
  if (request.archive === true) return decideArchiveResult(context, server, request);
  const to = parseJid(message.attrs.to ?? "");
  // Delivered by one of the module's trusted components (component-delivery.ts): to a user of
  // this server, from another domain; only each session's location is decided here.
  if (request.origin === "component")
    return to?.local !== undefined && to.domain === server && !context.served.includes(from?.domain ?? "")
      ? decideComponentDelivery(context, request, refuse, FORBIDDEN)
      : refuse("addressing", ADDRESSING);
  // The recipient is a user of the asking server; a local sender is a user of a served domain
  // (another virtual host of the same server included).
  const local = from !== undefined && context.served.includes(from.domain);
  // A c2s message leaving for another domain (outbound.ts): decided on its way out, the
  // destination's clearance in place of the recipient's.
  const outbound = request.outbound;
  // A c2s message with sent carbons to decide, to no user of this server (a component, another
  // server): decided for the copies alone — the recipient is judged where it is delivered.
  const copiesOnly =
    outbound === undefined &&
    request.copies !== undefined &&
    request.origin === "c2s" &&
    (!to?.local || to.domain !== server);
  const addressed = outbound
    ? to !== undefined && !context.served.includes(to.domain)
    : copiesOnly || (to?.local !== undefined && to.domain === server);
  if (!from || !addressed || (request.origin === "c2s") !== local) return refuse("addressing", ADDRESSING);

  const judged = messageLabel(context, message, refuse);
  if ("decision" in judged) return judged.decision;
  const { label } = judged;

  const policy = label.policy.id;
  const [sender, serverState, recipient] = await Promise.all([
    local
      ? context.clearances.user(toBare(message.attrs.from ?? "") ?? "", policy)
      : context.clearances.peer(from.domain, "inbound"),
    // The server's clearance: its domain's service clearance in the store, the one the catalog reads.
    context.clearances.service(server),
    outbound
      ? destinationClearance(context.clearances, outbound, to?.domain ?? "")
      : copiesOnly || !to?.local
        ? undefined
        : context.clearances.user(`${to.local}@${to.domain}`, policy),
  ]);
  // (For the copies alone, the sender is their own recipient: the copies are theirs.)
  const parties = { sender, server: serverState, recipient: recipient ?? sender };
  // The one-to-one rule on the message's label, then on each label of a message it names (the
  // reference rule, message-references.ts: it goes only where every message it names may go —
  // the parties cleared for each, and each session's location below).
  const conversation = conversationKey(
    toBare(message.attrs.from ?? "") ?? "",
    toBare(message.attrs.to ?? "") ?? "",
  );
  // (Outbound: the conversation's references are judged where it is delivered — outbound.ts.)
  const referenced = (outbound ? undefined : context.references?.referenced(conversation, message)) ?? {
    ok: true,
    labels: [],
  };
  if (!referenced.ok)
    return refuse(
      referenced.reason,
      referenced.reason === "too-many-references" ? TOO_MANY_REFERENCES : FORBIDDEN,
    );
  for (const [named, prefix] of [
    [label, ""],
    ...referenced.labels.map((l) => [l, "reference-"] as const),
  ] as const) {
    const verdict = oneToOne(context.labels.translations, named, parties);
    if (!verdict.ok)
      return verdict.unknown
        ? refuse(`${prefix}${verdict.party}-unknown`, UNKNOWN)
        : refuse(`${prefix}${verdict.party}-not-cleared`, FORBIDDEN);
  }

  // Where the sessions are (@cordon/rules client-location.ts): the sending session's location must grant the
  // label; each recipient session, and each other session of the sender about to get a sent
  // carbon (XEP-0280 §6), gets the label, FLOT (its client shows no labels) or nothing.
  const {
    locations,
    labels: { translations },
  } = context;
  // (A replayed stored message had its sending session checked on its way in.)
  if (
    request.origin === "c2s" &&
    request.offline !== true &&
    locations.grants(translations, label, request.senderIp) !== "granted"
  )
    return refuse("sender-location", FORBIDDEN);
  const formOf = (s: { ip: string | undefined; labels: boolean }): SessionForm =>
    locations.grants(translations, label, s.ip) !== "granted" ||
    referenced.labels.some((named) => locations.grants(translations, named, s.ip) !== "granted")
      ? "none"
      : s.labels || isError
        ? "label"
        : "flot";
  const copies = (request.copies ?? []).map((s) => ({ resource: s.resource, form: formOf(s) }));
  const sessions = (copiesOnly || outbound ? [] : request.sessions).map((s) => ({
    resource: s.resource,
    form: formOf(s),
  }));
  // A message for one session that may not have it, or for a user none of whose sessions may:
  // refused (@cordon/rules client-location.ts recipientRefused, the catalog's rule too). A stored
  // message replayed at login is not refused: it stays stored for a session that may have it.
  if (
    request.offline !== true &&
    recipientRefused(sessions, to?.resource || undefined, (s) => s.form !== "none")
  )
    return refuse("recipient-location", FORBIDDEN);

  // An error message goes on without a label of ours (it was decided under the default label).
  const out = isError ? withoutLabels(message) : delivered(context, message, label);
  if (!isError && !outbound) context.references?.delivered(conversation, message, label);
  const flot = [...sessions, ...copies].some((s) => s.form === "flot")
    ? flotForm(context, out, label)
    : undefined;
  return {
    verdict: {
      action: "deliver",
      message: out,
      ...(flot ? { flot } : {}),
      ...(sessions.length > 0 ? { sessions } : {}),
      ...(copies.length > 0 ? { copies } : {}),
    },
    reason: "deliver",
    ...(flot ? { flotMarking: context.markings.marking(label, out.attrs["xml:lang"] ?? "") } : {}),
  };
}

/** A refusal of `stanza`: its sender gets the error, unless it is an error (or an IQ result): dropped. */
function refuseStanza(stanza: Element, isError: boolean) {
  const silent = isError || (stanza.name === "iq" && stanza.attrs.type === "result");
  return (reason: GuardReason, spec: StanzaErrorSpec): GuardDecision =>
    silent
      ? { verdict: { action: "drop" }, reason }
      : { verdict: { action: "refuse", error: refusal(stanza, spec) }, reason };
}

/** A presence or IQ the module asked about (it may carry a label): labelled-payload.ts decides. */
function payload(
  context: DecideContext,
  request: CheckRequest,
  refuse: (reason: GuardReason, spec: StanzaErrorSpec) => GuardDecision,
): GuardDecision {
  const stanza = request.message;
  const from = parseJid(stanza.attrs.from ?? "");
  if (!from || (request.origin === "c2s") !== context.served.includes(from.domain))
    return refuse("addressing", ADDRESSING);
  const problem = labelledPayload(stanza, context.maxDepth);
  if (problem) return refuse(`label:${problem}`, refusalError(problem));
  return { verdict: { action: "deliver", message: stanza }, reason: "deliver" };
}

/** The error the sender gets: condition and fixed text only, the id only when it is short and printable. */
function refusal(message: Element, spec: StanzaErrorSpec): Element {
  const reply = errorReply(message, spec);
  const id = message.attrs.id;
  if (id === undefined || id.length > MAX_ERROR_ID || !PRINTABLE_ID.test(id)) delete reply.attrs.id;
  return reply;
}

/**
 * The label a message is judged on (unlabelled: the default label), or the decision that ends it
 * first: an error carrying a label is dropped (labelled errors are never delivered), a label the
 * policy cannot read is refused with its code. Every message origin reads its label here.
 */
export function messageLabel(
  context: DecideContext,
  message: Element,
  refuse: (reason: GuardReason, spec: StanzaErrorSpec) => GuardDecision,
): { label: Label } | { decision: GuardDecision } {
  if (message.attrs.type === "error" && message.children.some(isLabel))
    return { decision: { verdict: { action: "drop" }, reason: "labelled-error" } };
  const read = context.labels.of(message, {
    accept: context.accept,
    defaultLabel: context.defaultLabel,
    maxDepth: context.maxDepth,
  });
  if (!read.ok) return { decision: refuse(`label:${read.problem}`, refusalError(read.problem)) };
  return { label: read.label };
}
