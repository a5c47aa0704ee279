// The checks every labelled message passes before anyone receives it (XEP-0258 §"Use in Group
// Chat"): the effective label must be decidable and valid, granted by the sender's clearance, within
// the room's clearance and within the service clearance (configured, and the store's:
// readServiceBound) — each clearance judged on the label as its own policy says it (@cordon/rules translation.ts: a sender governed by an equivalent policy is not
// refused for the policy alone). The answer names the stanza error to send, which never carries the
// message or its label.
import type { Label } from "@cordon/policy";
import type { Element, StanzaErrorSpec } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { refusalError } from "@cordon/rules";
import { MAX_PAYLOAD_DEPTH } from "../security/nested-content.js";
import { serviceGrants, type ServiceBound } from "../security/service-clearance.js";
import { locationGrants } from "../security/occupant-location.js";

export type GateOutcome = { ok: true; label: Label } | { ok: false; error: StanzaErrorSpec; reason: string };

export function checkMessage(
  ctx: MucContext,
  room: Room,
  sender: Occupant,
  stanza: Element,
  /** The service clearance now (readServiceBound): the configured one and the store's. */
  service: ServiceBound,
  recipient?: Occupant,
): GateOutcome {
  // The effective label (@cordon/rules stanza-label): only the top level is labelled — content or
  // a label wrapped deeper would be reflected under the outer label, unchecked (XEP-0258 §"Use in
  // XMPP"), so it is refused before anything serialises it; the form in the governing policy,
  // every form checked; no label means the room's default label, then the service's.
  const outcome = ctx.labels.of(stanza, {
    accept: [ctx.governingPolicy],
    // The room's default, then the service's — unless the owner chose none (null): refused.
    defaultLabel:
      room.security.defaultLabel === null
        ? undefined
        : (room.security.defaultLabel ?? ctx.settings.defaultMessageLabel),
    maxDepth: MAX_PAYLOAD_DEPTH,
  });
  if (!outcome.ok) return { ok: false, reason: outcome.problem, error: refusalError(outcome.problem) };
  const label = outcome.label;
  if (sender.clearance.status === "unknown") {
    return {
      ok: false,
      reason: "sender-clearance-unknown",
      error: {
        condition: "internal-server-error",
        type: "wait",
        text: "your clearance cannot be determined right now; try again later",
      },
    };
  }
  const senderClearance = sender.clearance.status === "known" ? sender.clearance.clearance : undefined;
  if (!ctx.labels.grants(label, senderClearance)) {
    return {
      ok: false,
      reason: "sender-not-cleared",
      error: { condition: "forbidden", type: "cancel", text: "the label exceeds your clearance" },
    };
  }
  // The guard's client-location rule (security/occupant-location.ts): a session whose location
  // does not grant the label may not send it (the guard's "sender-location"); nothing is reflected.
  if (!locationGrants(ctx, sender, label)) {
    return {
      ok: false,
      reason: "sender-location",
      error: {
        condition: "forbidden",
        type: "cancel",
        text: "the label is not permitted where you are connected from",
      },
    };
  }
  if (!ctx.labels.grants(label, room.security.clearance)) {
    return {
      ok: false,
      reason: "room-clearance",
      error: { condition: "forbidden", type: "cancel", text: "this label is not permitted in this room" },
    };
  }
  if (service.status === "unknown") {
    return {
      ok: false,
      reason: "service-clearance-unknown",
      error: {
        condition: "internal-server-error",
        type: "wait",
        text: "the service's clearance cannot be determined right now; try again later",
      },
    };
  }
  if (!serviceGrants(ctx.labels, service, label)) {
    return {
      ok: false,
      reason: "service-clearance",
      error: { condition: "forbidden", type: "cancel", text: "this label is not permitted on this service" },
    };
  }
  if (recipient && recipient.clearance.status !== "known") {
    return {
      ok: false,
      reason: "recipient-clearance",
      error: { condition: "forbidden", type: "cancel", text: "the recipient is not cleared for this label" },
    };
  }
  return { ok: true, label };
}
