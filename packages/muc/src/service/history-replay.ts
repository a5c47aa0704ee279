// Replays history to a joiner: only entries whose label the joiner's clearance grants — and the
// service clearance now grants: a message stored before the operator lowered it is not handed out
// by a service no longer cleared for it, as a live one is not (XEP-0258 §"Use in Group Chat";
// adversarial review, issue 15) — each with XEP-0203 <delay/>, rendered (marking, FLOT) for the
// joiner's client.
import type { Label } from "@cordon/policy";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import { selectHistory, type HistoryEntry, type HistoryRequest } from "../room/history.js";
import type { MucContext } from "./context.js";
import { deliverableLabel } from "./delivery.js";
import { messageForOccupant, type RenderedMessage } from "./message-render.js";
import { delayXml } from "./stanzas.js";
import { governedLabel } from "../security/governed-label.js";
import { mayReadStoredReferences } from "../security/message-references.js";
import { serviceGrants, type ServiceBound } from "../security/service-clearance.js";

/**
 * The label of a stored message as `reader` may see it (in its policy), or undefined if it may not
 * — nor when the service clearance now (`readServiceBound`: unknown grants nothing) does not grant it.
 */
export function readableLabel(
  ctx: MucContext,
  reader: Occupant,
  entry: HistoryEntry,
  service: ServiceBound,
): Label | undefined {
  const stored = governedLabel(ctx, entry.label);
  if (!stored || !serviceGrants(ctx.labels, service, stored)) return undefined;
  if (!mayReadStoredReferences(ctx, reader, entry.refs)) return undefined;
  return deliverableLabel(ctx, reader, stored);
}

/** A stored message, to render for one reader under the label it may see (history and the archive). */
export function storedMessage(entry: HistoryEntry, label: Label): RenderedMessage {
  return {
    type: "groupchat",
    fromNick: entry.nick,
    id: entry.id,
    body: entry.body,
    extra: entry.extra,
    rich: entry.rich,
    label,
    stanzaId: entry.sid,
    occupantId: entry.occupantId,
  };
}

export function historyStanzas(
  ctx: MucContext,
  room: Room,
  joiner: Occupant,
  request: HistoryRequest,
  /** The service clearance now (readServiceBound). */
  service: ServiceBound,
): string[] {
  if (room.history.length === 0) return [];
  const mayRead = (entry: HistoryEntry): Label | undefined => readableLabel(ctx, joiner, entry, service);
  const picked = selectHistory(
    room.history,
    request,
    mayRead,
    ctx.now(),
    (e) => (e.body?.length ?? 0) + e.extra.length + (e.rich?.length ?? 0) + e.label.length + 200,
  );
  return picked.map(({ entry, label }) =>
    messageForOccupant(ctx, room, joiner, {
      ...storedMessage(entry, label),
      senderJid: entry.from,
      delay: delayXml(entry.ts, room.jid),
    }),
  );
}
