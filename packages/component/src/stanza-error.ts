// Stanza errors (RFC 6120 §8.3 https://www.rfc-editor.org/rfc/rfc6120#section-8.3).
// XEP-0258 §"Use in XMPP" (https://xmpp.org/extensions/xep-0258.html#usecases): an error reply
// never carries the offending stanza's content or label, so we never copy its children.
import { xml, type Element } from "./xml.js";
import { NS_STANZAS } from "./namespaces.js";

export type ErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

export type ErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "gone"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "redirect"
  | "registration-required"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "subscription-required"
  | "undefined-condition"
  | "unexpected-request";

/** The type RFC 6120 §8.3.3 gives each condition, used when the caller names none. */
const DEFAULT_TYPE: Record<ErrorCondition, ErrorType> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  gone: "cancel",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  redirect: "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "wait",
};

export interface StanzaErrorSpec {
  condition: ErrorCondition;
  type?: ErrorType;
  /** Human-readable text; must not quote the offending stanza. */
  text?: string;
  /** An application-specific condition element (e.g. MUC's), added beside the defined one. */
  application?: Element;
}

/** True when the stanza is itself an error: never answer an error with an error (RFC 6120 §8.3.1). */
export function isErrorStanza(stanza: Element): boolean {
  return stanza.attrs.type === "error";
}

/** The `<error/>` child alone. */
export function errorElement(spec: StanzaErrorSpec): Element {
  const type = spec.type ?? DEFAULT_TYPE[spec.condition];
  return xml(
    "error",
    { type },
    xml(spec.condition, { xmlns: NS_STANZAS }),
    spec.text ? xml("text", { xmlns: NS_STANZAS }, spec.text) : null,
    spec.application ?? null,
  );
}

/**
 * The error reply to `stanza`: same element name and id, addresses swapped, and only an
 * `<error/>` child — none of the original payload (no body, no label, no query).
 * `from` defaults to the stanza's `to` (the entity that refuses it).
 */
export function errorReply(stanza: Element, spec: StanzaErrorSpec, from?: string): Element {
  const attrs: Record<string, string | undefined> = {
    type: "error",
    id: stanza.attrs.id,
    from: from ?? stanza.attrs.to,
    to: stanza.attrs.from,
  };
  return xml(stanza.name, attrs, errorElement(spec));
}

/** Reads the defined condition and text of an error stanza (for logs and IQ callers). */
export function readStanzaError(stanza: Element): { condition: string; type: string; text?: string } {
  const error = stanza.getChild("error");
  if (!error) return { condition: "undefined-condition", type: "cancel" };
  const conditionEl = error.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text");
  const text = error.getChildText("text", NS_STANZAS) ?? undefined;
  return {
    condition: conditionEl?.name ?? "undefined-condition",
    type: error.attrs.type ?? "cancel",
    ...(text ? { text } : {}),
  };
}
