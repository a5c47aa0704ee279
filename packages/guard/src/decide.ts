// The guard's decision about one message delivered to a user of a served server (issue 17; the
// "core SEF" of label enforcement in an XMPP server): its effective label (@cordon/rules
// StanzaLabels: unlabelled takes the default label, none configured → refused), then the
// one-to-one rule (@cordon/rules one-to-one.ts: sender, server and recipient clearances). A
// message delivered carries the label re-encoded from the decided one with the policy's marking
// (XEP-0258 §3: the marking shown is the policy's, never the sender's); a refused one is answered
// with an error that carries nothing of it (RFC 6120 §8.3); an error message is never answered
// (RFC 6120 §8.3.1): refused, it is dropped — and a labelled one is always dropped.
import {
  errorReply,
  isElement,
  toBare,
  xml,
  NS_SEC_LABEL,
  parseJid,
  type Element,
  type StanzaErrorSpec,
} from "@cordon/component";
import type { Label } from "@cordon/policy";
import {
  oneToOne,
  refusalError,
  type ClearanceReader,
  type Markings,
  type OneToOneParty,
  type StanzaLabels,
} from "@cordon/rules";
import type { CheckRequest, Verdict } from "./protocol.js";

/** Why a message was refused or dropped, as counted in `cordon_decisions_total{component="guard"}`. */
export type GuardReason =
  | "addressing"
  | "labelled-error"
  | `label:${string}`
  | `${OneToOneParty}-unknown`
  | `${OneToOneParty}-not-cleared`;

export interface GuardDecision {
  readonly verdict: Verdict;
  /** "deliver", or why not. */
  readonly reason: "deliver" | GuardReason;
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
}

const isLabel = (c: Element | string): boolean =>
  isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_SEC_LABEL;

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
  const to = parseJid(message.attrs.to ?? "");
  // The recipient is a user of the asking server; a local sender is a user of a served domain
  // (another virtual host of the same server included).
  const local = from !== undefined && context.served.includes(from.domain);
  if (!from || !to?.local || to.domain !== server || (request.origin === "c2s") !== local)
    return refuse("addressing", ADDRESSING);

  if (isError && message.children.some(isLabel))
    return { verdict: { action: "drop" }, reason: "labelled-error" };

  const read = context.labels.of(message, {
    accept: context.accept,
    defaultLabel: context.defaultLabel,
    maxDepth: context.maxDepth,
  });
  if (!read.ok) return refuse(`label:${read.problem}`, refusalError(read.problem));
  const label = read.label;

  const policy = label.policy.id;
  const [sender, serverState, recipient] = await Promise.all([
    local
      ? context.clearances.user(toBare(message.attrs.from ?? "") ?? "", policy)
      : context.clearances.peer(from.domain, "inbound"),
    // The server's clearance: its domain's service clearance in the store, the one the catalog reads.
    context.clearances.service(server),
    context.clearances.user(`${to.local}@${to.domain}`, policy),
  ]);
  const verdict = oneToOne(context.labels.translations, label, { sender, server: serverState, recipient });
  if (!verdict.ok)
    return verdict.unknown
      ? refuse(`${verdict.party}-unknown`, UNKNOWN)
      : refuse(`${verdict.party}-not-cleared`, FORBIDDEN);
  // An error message goes on without a label of ours (it was decided under the default label).
  const out = isError ? withoutLabels(message) : delivered(context, message, label);
  return { verdict: { action: "deliver", message: out }, reason: "deliver" };
}

function withoutLabels(message: Element): Element {
  return xml(message.name, { ...message.attrs }, ...message.children.filter((c) => !isLabel(c)));
}

/** The message as delivered: every <securitylabel/> replaced by the decided label with the policy's marking. */
function delivered(context: DecideContext, message: Element, label: Label): Element {
  // Re-encoded from the decided label (marking.ts): the sender's bytes and ESS privacy mark stay behind.
  const shared = context.markings.securityLabelElement(label, message.attrs["xml:lang"] ?? "");
  // A new top element over the shared children: the rendered label is never re-parented.
  const out = xml(shared.name, { ...shared.attrs });
  out.children = shared.children.slice();
  const children = message.children.filter((c) => !isLabel(c));
  return xml(message.name, { ...message.attrs }, ...children, out);
}

/** The error the sender gets: condition and fixed text only, the id only when it is short and printable. */
function refusal(message: Element, spec: StanzaErrorSpec): Element {
  const reply = errorReply(message, spec);
  const id = message.attrs.id;
  if (id === undefined || id.length > MAX_ERROR_ID || !PRINTABLE_ID.test(id)) delete reply.attrs.id;
  return reply;
}
