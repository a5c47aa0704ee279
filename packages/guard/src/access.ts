// The server access label (issue 17, "server access label"): optionally, a label every user's
// clearance must grant before the server lets the user bind a resource (RFC 6120 §7), i.e. log
// in. The rule is the one grant rule used everywhere (X.841 ACDF through @cordon/rules
// Translations: the label expressed in the clearance's policy first); the clearance is the user's
// as the shared ClearanceReader reads it (store, then directory). Fail closed: an unknown
// clearance (store or directory down, an unreadable value) and no clearance at all both deny.
// Without a configured access label every user is allowed (the check costs nothing but the
// question, and a module asks only when its site enables it).
//
// Protocol (over the guard's XEP-0114 link, like <check/>; packages/guard/README.md):
//
//   <iq type='get' from='example.test' to='guard.example.test' id='…'>
//     <access xmlns='urn:cordon:guard:0' jid='alice@example.test'/>     (a user of the asking server)
//   </iq>
//   <access-verdict xmlns='urn:cordon:guard:0' action='allow'/>           the bind goes on
//   <access-verdict xmlns='urn:cordon:guard:0' action='deny'/>            the bind is refused
//
// An IQ error (a malformed question, a user of another server), a timeout or no answer at all:
// the module refuses the bind (fail closed).
import { bareJid, isElement, parseJid, xml, type Element } from "@cordon/component";
import { isValidLabel, type Label } from "@cordon/policy";
import type { ClearanceReader, Translations } from "@cordon/rules";
import { NS_GUARD } from "./namespaces.js";

/** Why a bind was allowed or denied, as counted in `cordon_decisions_total{component="guard"}`. */
export type AccessReason =
  /** No access label configured: everyone may bind. */
  | "no-access-label"
  /** The user's clearance grants the access label. */
  | "granted"
  /** The user's clearance could not be read now (fail closed). */
  | "unknown"
  /** The user has no clearance (the nil clearance grants nothing). */
  | "no-clearance"
  /** The user's clearance does not grant the access label. */
  | "not-cleared"
  /**
   * The access label is not valid under its policy (a reload made it so: the configuration refuses
   * one at start): no decision is made on it, every bind is denied (Spiffing FAQ: a label is
   * validated before any access decision; adv15: users cleared for an invalid one bound).
   */
  | "access-label-invalid";

export interface AccessDecision {
  readonly allowed: boolean;
  readonly reason: AccessReason;
}

export interface AccessContext {
  readonly clearances: ClearanceReader;
  readonly translations: Translations;
  /** The label every user's clearance must grant to bind a resource; undefined: no such label. */
  readonly accessLabel: Label | undefined;
}

/** Whether `bareJid` (a user of a served server) may bind a resource. Never throws. */
export async function decideAccess(context: AccessContext, bareJid: string): Promise<AccessDecision> {
  const label = context.accessLabel;
  if (!label) return { allowed: true, reason: "no-access-label" };
  if (!validAccessLabel(label)) return { allowed: false, reason: "access-label-invalid" };
  const state = await context.clearances.user(bareJid, label.policy.id);
  if (state.status === "unknown") return { allowed: false, reason: "unknown" };
  if (state.status === "none") return { allowed: false, reason: "no-clearance" };
  return context.translations.decide(label, state.clearance).granted
    ? { allowed: true, reason: "granted" }
    : { allowed: false, reason: "not-cleared" };
}

/** Access labels' validity by label object (a label never changes; weak: no bound needed). */
const validity = new WeakMap<Label, boolean>();
function validAccessLabel(label: Label): boolean {
  let valid = validity.get(label);
  if (valid === undefined) validity.set(label, (valid = isValidLabel(label)));
  return valid;
}

/**
 * The user an `<access/>` asks about, when the question is well formed and about a user of
 * `server` (the asking server's own domain); undefined otherwise (answered bad-request).
 */
export function readAccess(access: Element, server: string): string | undefined {
  if (access.children.some(isElement)) return undefined;
  const jid = parseJid(access.attrs.jid ?? "");
  if (!jid?.local || jid.resource !== "" || jid.domain !== server) return undefined;
  return bareJid(jid);
}

/** The `<access-verdict/>` answering an `<access/>`. */
export function accessVerdictElement(decision: AccessDecision): Element {
  return xml("access-verdict", { xmlns: NS_GUARD, action: decision.allowed ? "allow" : "deny" });
}
