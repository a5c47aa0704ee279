// Message-type and traffic-mode rules: which message types may cross (RFC 6121 §5.2.2
// https://www.rfc-editor.org/rfc/rfc6121#section-5.2.2) and whether MUC traffic (XEP-0045
// https://xmpp.org/extensions/xep-0045.html), 1:1 traffic or both may cross.
import type { Direction, Route } from "./direction.js";
import type { MessageType } from "./peering.js";

const PRESENCE_TYPES = new Set([
  "available",
  "unavailable",
  "subscribe",
  "subscribed",
  "unsubscribe",
  "unsubscribed",
  "probe",
  "error",
]);

export type TypeRefusal = "type-denied" | "mode-muc-only" | "mode-one-to-one-only";

/**
 * MUC traffic: anything to or from a configured MUC domain (joins, groupchat, PMs, room IQs). The
 * `groupchat` type alone does not make a stanza MUC traffic: the sender chooses it, and a server
 * delivers a groupchat message to a user's full JID like any other (RFC 6121 §8.5.3.2.1).
 */
export function isMucTraffic(route: Route, direction: Direction): boolean {
  return (
    direction.to.mucDomains.includes(route.toDomain) || direction.from.mucDomains.includes(route.fromDomain)
  );
}

/**
 * Undefined when the stanza may cross, else why not. An error is not judged on its type (it is
 * not one of `messageTypes`), but is on the traffic mode: an error to or from a MUC domain is MUC
 * traffic (fixed: `one-to-one-only` let errors to a MUC domain through).
 */
export function checkType(route: Route, direction: Direction): TypeRefusal | undefined {
  const rules = direction.rules;
  if (
    route.type !== "error" &&
    route.kind === "message" &&
    !rules.messageTypes.includes(route.type as MessageType)
  )
    return "type-denied";
  // RFC 6121 §4.7.1: a presence type is one of these; any other would cross as text nobody reads.
  if (route.kind === "presence" && !PRESENCE_TYPES.has(route.type)) return "type-denied";
  if (rules.mode === "any") return undefined;
  const muc = isMucTraffic(route, direction);
  if (rules.mode === "muc-only" && !muc) return "mode-muc-only";
  // One-to-one only: no MUC domain, and no groupchat message either (fail closed on the type too).
  if (rules.mode === "one-to-one-only" && (muc || (route.kind === "message" && route.type === "groupchat")))
    return "mode-one-to-one-only";
  return undefined;
}
