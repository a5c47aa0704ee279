// The checks of one crossing, in order: addresses (no loop, no forged origin), peers, message type
// and traffic mode, file transfer, folding, label (validity, direction clearance, sender clearance,
// translation), content; then the outgoing copy with the recomputed label (and FLOT marking for
// label-unaware receivers). Pure apart from clearance look-ups; the relay does the I/O.
import { isElement, xml, NS_CLIENT, NS_STANZAS, NS_XHTML_IM, type Element } from "@cordon/component";
import type { Label, Policy } from "@cordon/policy";
import { addFlot, isHiddenContentReason, markShownTexts, securityLabels } from "@cordon/rules";
import { auditId, type AuditEntry } from "./audit.js";
import type { ClearanceSource } from "./clearances.js";
import { clearanceRefusal, type ClearanceRefusal } from "./clearance-check.js";
import { peerAllowed, routeOf, type Direction, type Route } from "./direction.js";
import { checkFileTransfer } from "./file-transfer.js";
import { compileFolding, foldMessage, inStanzaNs, type FoldingRules } from "./folding.js";
import type { LabelEngine } from "./label-check.js";
import { removeSecurityLabels } from "./label-check.js";
import {
  compileContent,
  flattenTexts,
  messageTexts,
  presenceTexts,
  type ContentChecker,
} from "./content-check.js";
import { foldPresence } from "./presence-folding.js";
import { checkType } from "./type-filter.js";
import { idShaped, relayIqId } from "./stanza-id.js";
import { checkIq, iqTexts, type IqTracker } from "./iq-control.js";

export type Decision =
  | { action: "pass"; stanza: Element; audit: AuditEntry }
  | { action: "refuse"; audit: AuditEntry }
  | { action: "drop"; audit: AuditEntry };

/** A direction compiled for the hot path; recompiled when the policies are reloaded. */
export class DirectionContext {
  readonly folding: FoldingRules;
  readonly content: ContentChecker;
  #generation = -1;
  #sending!: Policy;
  #receiving!: Policy;
  #defaultLabel: Label | undefined;

  constructor(
    readonly direction: Direction,
    private readonly engine: LabelEngine,
  ) {
    this.folding = compileFolding(direction.rules);
    this.content = compileContent(direction.rules.content);
    this.refresh();
  }

  /** Resolves the policies and the default label; throws (PolicyError) when the config names what is not loaded. */
  refresh(): void {
    const generation = this.engine.registry.generation;
    if (generation === this.#generation) return;
    const d = this.direction;
    this.#sending = this.engine.policy(d.from.policy);
    this.#receiving = this.engine.policy(d.to.policy);
    // The peering's default label for this direction, else the sending side's policy default.
    const data = d.rules.defaultLabel ?? d.from.defaultLabel;
    this.#defaultLabel = data === undefined ? undefined : this.engine.labelFromData(data);
    this.#generation = generation;
  }

  get sending(): Policy {
    return this.#sending;
  }
  get receiving(): Policy {
    return this.#receiving;
  }
  get defaultLabel(): Label | undefined {
    return this.#defaultLabel;
  }
}

export interface DecideDeps {
  engine: LabelEngine;
  clearances: ClearanceSource;
  /** The peering's IQ requests waiting for their answers (shared by its two directions). */
  iqs: IqTracker;
}

/**
 * Decides what happens to `stanza` arriving for `ctx.direction`. Never throws for stanza content.
 * The decision itself when every clearance it needs is cached (no microtask, no promise); a promise
 * of it when a clearance must be looked up.
 */
export function decide(
  stanza: Element,
  ctx: DirectionContext,
  deps: DecideDeps,
): Decision | Promise<Decision> {
  ctx.refresh();
  const d = ctx.direction;
  const rules = d.rules;
  const base = {
    peering: d.peering,
    direction: d.name,
    stanza: KINDS.has(stanza.name) ? stanza.name : "other",
  };
  const routed = routeOf(stanza, d);
  if (!routed.ok) {
    const audit: AuditEntry = { ...base, decision: "drop", reason: routed.reason };
    // A loop is never answered (the answer would loop too); other unroutable stanzas follow `malformed`.
    if (routed.reason !== "loop" && rules.malformed === "refuse" && stanza.attrs.type !== "error")
      return { action: "refuse", audit: { ...audit, decision: "refuse" } };
    return { action: "drop", audit };
  }
  const route = routed.route;
  // The audit holds no sender-chosen text: a type outside RFC 6120/6121's is "other", the id a digest.
  const auditType = (TYPES[route.kind] ?? []).includes(route.type) ? route.type : "other";
  // One object literal of one shape (no spreads of varying shapes on the hot path).
  const entry: AuditFields = {
    peering: base.peering,
    direction: base.direction,
    stanza: base.stanza,
    type: auditType,
    fromDomain: route.fromDomain,
    toDomain: route.toDomain,
  };
  if (stanza.attrs.id) entry.id = auditId(stanza.attrs.id);
  const isError = route.type === "error";

  // XEP-0258 / docs/labels.md §1: an error never carries a label; one that does is dropped, not answered.
  if (isError && securityLabels(stanza).length > 0) return dropping(entry, "labelled-error");
  // The label (@cordon/rules stanza-label), read before anything else walks the stanza. Only the top
  // level of a stanza is labelled and checked: a label, a message or a forwarded stanza nested
  // deeper (XEP-0297 <forwarded/>, an archive result, a message inside an IQ) would cross
  // unchecked under the outer label, so such stanzas do not cross at all; nor do stanzas the
  // checks would misread (namespace prefixes) or could not walk (nesting beyond MAX_DEPTH). The
  // stanza's own label is the form in the sending side's policy, or already in the receiving
  // side's; without one, the default label when `unlabelled` says so.
  const resolved = deps.engine.labels.of(stanza, {
    accept: [ctx.sending.id, ctx.receiving.id],
    defaultLabel: rules.unlabelled[route.kind] === "default" ? ctx.defaultLabel : undefined,
    maxDepth: MAX_DEPTH,
  });
  if (!resolved.ok && isHiddenContentReason(resolved.problem))
    return isError ? dropping(entry, resolved.problem) : refusing(entry, resolved.problem);
  if (!peerAllowed(rules.peers, route.toDomain)) return refusing(entry, "peer-denied");
  const typeRefusal = checkType(route, d);
  if (typeRefusal) return isError ? dropping(entry, typeRefusal) : refusing(entry, typeRefusal);
  // XEP-0258 §"Use in presence" (docs/labels.md): presence carries no label; one with a label is
  // refused, as the MUC refuses it (it crossed with the label removed, under that label's checks).
  if (route.kind === "presence" && securityLabels(stanza).length > 0)
    return refusing(entry, "presence-labelled");

  // stanza-id.ts: a message or presence id crosses only when it looks like one (IQ ids are replaced).
  const id = stanza.attrs.id;
  if (route.kind !== "iq" && id !== undefined && !idShaped(id))
    return isError ? dropping(entry, "id-malformed") : refusing(entry, "id-malformed");

  // An error crosses as its <error/> alone: its body and payload are content that would skip the
  // type, file-transfer and content checks (RFC 6120 §8.3.1 lets the error carry none of them).
  const out = isError ? errorOnly(stanza) : stanzaOnly(stanza);
  const stripped: string[] = [];
  if (route.kind !== "presence") {
    const transfer = checkFileTransfer(out, rules.fileTransfer);
    if (transfer.blocked) return refusing(entry, "file-transfer-blocked", transfer.kind);
    stripped.push(...transfer.stripped);
  }
  // IQs: requests only in the allowed namespaces; answers only to requests that crossed.
  let iqRequest: { namespace: string } | undefined;
  let iqAnswers: { id: string } | undefined;
  if (route.kind === "iq") {
    const iq = checkIq(stanza, rules.iq, deps.iqs);
    // A response that may not cross is dropped: responses are never answered (RFC 6120 §8.2.3).
    if (!iq.ok)
      return route.type === "get" || route.type === "set"
        ? refusing(entry, iq.reason, iq.detail)
        : dropping(entry, iq.reason, iq.detail);
    iqRequest = iq.request;
    iqAnswers = iq.answers;
  }
  if (route.kind === "message") {
    // Text as a client shows it: `<body>exc<b/>alibur</body>` crosses, is checked and is marked as "excalibur".
    flattenTexts(out, inStanzaNs);
    const folded = foldMessage(out, ctx.folding);
    if (folded.outcome === "blocked") return refusing(entry, folded.reason, folded.ns);
    stripped.push(...folded.stripped);
    if (folded.outcome === "empty")
      return { action: "drop", audit: { ...entry, decision: "drop", reason: "folded-empty", stripped } };
  } else if (route.kind === "presence") {
    const folded = foldPresence(out, rules.presence);
    if (folded.outcome === "blocked") return refusing(entry, "presence-blocked");
  }

  // The label: the stanza's, or the default; valid; granted by the direction and the sender.
  if (!resolved.ok) {
    // No label the sender chose to judge: refused (errors dropped) whatever `malformed` says — an
    // invalid default label is this side's configuration, not the sender's malformed label.
    if (resolved.problem === "unlabelled" || resolved.problem === "default-label-invalid")
      return isError ? dropping(entry, resolved.problem) : refusing(entry, resolved.problem);
    return rules.malformed === "drop" || isError
      ? dropping(entry, resolved.problem)
      : refusing(entry, resolved.problem);
  }
  // The clearances (clearance-check.ts), in one turn when their answers are cached; otherwise the
  // missing lookups are awaited one at a time, in the order the checks ask for them.
  const passing: Passing = {
    stanza,
    ctx,
    deps,
    route,
    entry,
    out,
    stripped,
    isError,
    id,
    label: resolved.label,
    labelSource: resolved.source,
    iqRequest,
    iqAnswers,
  };
  const verdict = clearanceRefusal(resolved.label, route, ctx, deps.engine, deps.clearances);
  return verdict instanceof Promise ? verdict.then((v) => granted(passing, v)) : granted(passing, verdict);
}

/** What a decision has established when the clearances are checked (one object, no closure). */
interface Passing {
  readonly stanza: Element;
  readonly ctx: DirectionContext;
  readonly deps: DecideDeps;
  readonly route: Route;
  readonly entry: AuditFields;
  readonly out: Element;
  readonly stripped: string[];
  readonly isError: boolean;
  readonly id: string | undefined;
  readonly label: Label;
  readonly labelSource: "stanza" | "default";
  readonly iqRequest: { namespace: string } | undefined;
  readonly iqAnswers: { id: string } | undefined;
}

type AuditFields = Omit<AuditEntry, "decision" | "reason">;

function refusing(entry: AuditFields, reason: string, detail?: string): Decision {
  return { action: "refuse", audit: { ...entry, decision: "refuse", reason, ...(detail ? { detail } : {}) } };
}

function dropping(entry: AuditFields, reason: string, detail?: string): Decision {
  return { action: "drop", audit: { ...entry, decision: "drop", reason, ...(detail ? { detail } : {}) } };
}

/** Refused (answered) or, for an error, dropped. */
function refusingOrDropping(p: Passing, reason: string, detail?: string): Decision {
  return p.isError ? dropping(p.entry, reason, detail) : refusing(p.entry, reason, detail);
}

/** The clearances' verdict; when every clearance grants the label: translated, its content checked, the copy labelled. */
function granted(p: Passing, refusal: ClearanceRefusal | undefined): Decision {
  if (refusal) return refusingOrDropping(p, refusal.reason, refusal.detail);
  const {
    stanza,
    ctx,
    deps,
    route,
    entry,
    out,
    stripped,
    isError,
    id,
    label,
    labelSource,
    iqRequest,
    iqAnswers,
  } = p;
  const d = ctx.direction;
  const received = deps.engine.translate(label, ctx.receiving);
  if (!received) return refusingOrDropping(p, "untranslatable");

  if (!ctx.content.empty) {
    // An error carries no text of its own but its id (errorOnly); an IQ's id is the relay's.
    const texts = isError
      ? []
      : route.kind === "message"
        ? messageTexts(out)
        : route.kind === "presence"
          ? presenceTexts(out)
          : iqTexts(out);
    if (route.kind !== "iq" && id !== undefined) texts.push(id);
    // Sender-chosen text in the addresses and attributes that cross: the resources (a client's
    // name, a room nickname: RFC 7622 §3.4), the recipient's localpart and the language tag.
    texts.push(...addressTexts(route), out.attrs["xml:lang"] ?? "");
    const hit = ctx.content.check(texts, label.classification.name);
    if (hit >= 0) return refusingOrDropping(p, "content-blocked", `list ${hit + 1}`);
  }

  const lang = d.to.markingLang;
  const { marking, element } = deps.engine.outgoing(received, lang);
  if (route.kind === "message" && !isError) {
    removeSecurityLabels(out);
    out.children.push(element);
    element.parent = out;
    if (!d.to.labelAware) {
      if (addFlot(out, marking, inStanzaNs)) stripped.push(NS_XHTML_IM);
      markShownTexts(out, marking);
    }
  } else if (route.kind === "iq" && !isError && securityLabels(out).length > 0) {
    removeSecurityLabels(out);
    out.children.push(element);
    element.parent = out;
  } else removeSecurityLabels(out);

  // The request crosses under an id of the relay's; its answer may now come back the other way
  // under that id (and nothing else may), and goes on under the requester's (stanza-id.ts). One
  // sender may have only so many requests waiting (checked here, in the same turn as `expect`, so
  // that concurrent decisions cannot all pass the check).
  if (iqRequest) {
    if (!deps.iqs.mayExpect(route.from)) return refusing(entry, "iq-pending-limit");
    out.attrs.id = relayIqId();
    deps.iqs.expect(route.from, route.to, out.attrs.id, iqRequest.namespace, stanza.attrs.id ?? "");
  }
  if (iqAnswers) out.attrs.id = iqAnswers.id;

  const audit: AuditEntry = {
    peering: entry.peering,
    direction: entry.direction,
    stanza: entry.stanza,
    type: entry.type,
    fromDomain: entry.fromDomain,
    toDomain: entry.toDomain,
    decision: "pass",
    reason: "granted",
    marking,
    policy: received.policy.id,
    labelSource,
  };
  if (entry.id !== undefined) audit.id = entry.id;
  if (stripped.length) audit.stripped = stripped;
  return { action: "pass", stanza: out, audit };
}

/** The parts of a stanza's addresses the sender chose: its own resource, the recipient's localpart and resource. */
function addressTexts(route: Route): string[] {
  const from = route.fromJid;
  const to = route.toJid;
  return [from.resource ?? "", to.local ?? "", to.resource ?? ""];
}

/** Whether a refusal is answered with an error (RFC 6120 §8.3.1: never an error, and results are not requests). */
export function answersRefusal(stanza: Element): boolean {
  const type = stanza.attrs.type;
  if (type === "error") return false;
  if (stanza.name === "iq") return type === "get" || type === "set";
  if (stanza.name === "presence") return type === "subscribe";
  return stanza.name === "message";
}

/** How deep a stanza's elements may nest (the stanza is depth 0). XMPP payloads nest a dozen levels; a deeper stanza could not be walked or serialised without exhausting the stack. */
export const MAX_DEPTH = 64;

const KINDS = new Set(["message", "presence", "iq"]);

/** The stanza types of RFC 6121 §5.2.2 and §4.7.1 and RFC 6120 §8.2.3, for the audit. */
const TYPES: Readonly<Record<string, readonly string[]>> = {
  message: ["chat", "normal", "groupchat", "headline", "error"],
  presence: [
    "available",
    "unavailable",
    "subscribe",
    "subscribed",
    "unsubscribe",
    "unsubscribed",
    "probe",
    "error",
  ],
  iq: ["get", "set", "result", "error"],
};

/** The attributes a stanza crosses with (RFC 6120 §8.1): anything else is sender-chosen text no rule reads. */
const STANZA_ATTRS = ["from", "to", "id", "type", "xml:lang"] as const;
const STANZA_NS = new Set([NS_CLIENT, "jabber:server", "jabber:component:accept"]);

/**
 * The relay's copy (copy.ts) reduced to what RFC 6120 §8 defines at the top level: its attributes
 * and its child elements (no text beside them). One new element: the attributes are read once.
 */
export function stanzaOnly(stanza: Element): Element {
  const copy = xml(stanza.name);
  copy.attrs = stanzaAttrs(stanza);
  copy.children = stanza.children.filter(isElement);
  return copy;
}

function stanzaAttrs(stanza: Element): Record<string, string | undefined> {
  const attrs: Record<string, string | undefined> = {};
  for (const name of STANZA_ATTRS) if (stanza.attrs[name] !== undefined) attrs[name] = stanza.attrs[name];
  // xml:lang is a language tag (RFC 5646), not a place for text.
  if (attrs["xml:lang"] !== undefined && !/^[A-Za-z0-9-]{1,35}$/.test(attrs["xml:lang"]))
    delete attrs["xml:lang"];
  const ns = stanza.attrs.xmlns;
  if (ns !== undefined && STANZA_NS.has(ns)) attrs.xmlns = ns;
  return attrs;
}

/** RFC 6120 §8.3.3 defined conditions and §8.3.2 error types: nothing else names an error that crosses. */
const CONDITIONS = new Set([
  "bad-request",
  "conflict",
  "feature-not-implemented",
  "forbidden",
  "gone",
  "internal-server-error",
  "item-not-found",
  "jid-malformed",
  "not-acceptable",
  "not-allowed",
  "not-authorized",
  "policy-violation",
  "recipient-unavailable",
  "redirect",
  "registration-required",
  "remote-server-not-found",
  "remote-server-timeout",
  "resource-constraint",
  "service-unavailable",
  "subscription-required",
  "undefined-condition",
  "unexpected-request",
]);
const ERROR_TYPES = new Set(["auth", "cancel", "continue", "modify", "wait"]);

/**
 * An error stanza reduced to its addressing and its <error/> condition and type (no text, no
 * payload): a defined condition and type, else undefined-condition and cancel — a sender-chosen
 * element name or type would carry text across unread.
 */
export function errorOnly(stanza: Element): Element {
  const error = stanza.getChild("error");
  const condition = error?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text");
  const name = condition && CONDITIONS.has(condition.name) ? condition.name : "undefined-condition";
  const type =
    error?.attrs.type !== undefined && ERROR_TYPES.has(error.attrs.type) ? error.attrs.type : "cancel";
  return xml(stanza.name, stanzaAttrs(stanza), xml("error", { type }, xml(name, { xmlns: NS_STANZAS })));
}
