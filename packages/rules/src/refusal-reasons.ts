// Why a stanza's label cannot be accepted, as one list of codes the MUC and the relay both use:
// each code is the reason their metrics count (`cordon_decisions_total`, the MUC as
// `groupchat:CODE`, the relay as `refuse:CODE` / `drop:CODE`; the relay's audit records it too),
// and names the stanza error (RFC 6120 §8.3.3) the sender gets. The text is fixed: an error never
// carries anything the sender chose (XEP-0258 §"Use in XMPP").
import type { ErrorCondition, ErrorType, HiddenContent, StanzaErrorSpec } from "@cordon/component";

export interface RefusalReasonSpec {
  /** The reason label value the code feeds in the decision metrics. */
  readonly metric: string;
  readonly condition: ErrorCondition;
  readonly type: ErrorType;
  /** The stanza error's text (the MUC sends it; the relay sends condition and type only). */
  readonly text: string;
}

const badRequest = (metric: string, text: string) =>
  ({ metric, condition: "bad-request", type: "modify", text }) as const;
const forbidden = (metric: string, text: string) =>
  ({ metric, condition: "forbidden", type: "cancel", text }) as const;

/** Every code, with its metric label, its stanza error and the error's fixed text. */
export const REFUSAL_REASONS = {
  // No label (or an empty <label/>) and no default label applies (XEP-0258 §"Use in XMPP").
  unlabelled: forbidden("unlabelled", "the stanza has no security label and no default label applies"),
  // No label, and the default label that would apply is not valid under its policy (a configuration
  // or a room owner's choice its policy excludes): refused rather than applied.
  "default-label-invalid": forbidden(
    "default-label-invalid",
    "the stanza has no security label and the default label is not valid here",
  ),
  // More than one <securitylabel/> at the top level.
  "label-several": badRequest("label-several", "a stanza may carry only one security label"),
  // A form that does not decode, an empty <label/> beside <equivalentlabel/>s, too many forms.
  "label-malformed": badRequest("label-malformed", "the security label cannot be read"),
  // A form under a policy that is not loaded.
  "label-unknown-policy": forbidden("label-unknown-policy", "the security label's policy is not known here"),
  // Every form decodes, but none is in a policy this service accepts labels in.
  "label-wrong-policy": forbidden(
    "label-wrong-policy",
    "the security label is not expressed in a policy this service accepts",
  ),
  // Not valid under its policy (excluded classification or category, required category missing).
  "label-invalid": forbidden("label-invalid", "the security label is not valid under its policy"),
  // XEP-0258 §"Equivalent labels": the forms do not all say the same thing.
  "label-inconsistent": badRequest(
    "label-inconsistent",
    "the security label's equivalent forms do not agree",
  ),
  // Hidden content (@cordon/component hiddenContent): only the stanza's own top level is labelled.
  "nested-label": badRequest(
    "nested-label",
    "a security label is accepted only as a direct child of the stanza",
  ),
  "nested-stanza": badRequest("nested-stanza", "forwarded or embedded stanzas are not accepted here"),
  "prefixed-name": badRequest("prefixed-name", "prefixed element or attribute names are not accepted"),
  "too-deep": badRequest("too-deep", "the stanza's payload is nested too deeply"),
  // A presence or IQ carrying a label (the central check, packages/guard labelled-payload.ts):
  // labels are carried on messages (XEP-0258); such a payload would reach its recipient unchecked.
  "payload-labelled": forbidden("payload-labelled", "security labels are accepted on messages only"),
} as const satisfies Record<string, RefusalReasonSpec>;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/** The codes that mean the stanza carries hidden content (never: a HiddenContent without a code). */
export type HiddenContentReason = HiddenContent extends RefusalReason ? HiddenContent : never;

const HIDDEN: ReadonlySet<string> = new Set<HiddenContentReason>([
  "nested-label",
  "nested-stanza",
  "prefixed-name",
  "too-deep",
]);

/** Whether `code` says the stanza carries hidden content (refused before any other check). */
export function isHiddenContentReason(code: string): code is HiddenContentReason {
  return HIDDEN.has(code);
}

/** The codes a stanza's label can be refused with (everything but hidden content). */
export type LabelProblem = Exclude<RefusalReason, HiddenContent>;

/** Whether `code` is one of the shared codes (the relay's audit holds others too). */
export function isRefusalReason(code: string): code is RefusalReason {
  return Object.hasOwn(REFUSAL_REASONS, code);
}

/** The stanza error for a code: its condition, its type and, when `withText`, its fixed text. */
export function refusalError(reason: RefusalReason, withText = true): StanzaErrorSpec {
  const spec: RefusalReasonSpec = REFUSAL_REASONS[reason];
  return withText
    ? { condition: spec.condition, type: spec.type, text: spec.text }
    : { condition: spec.condition, type: spec.type };
}
