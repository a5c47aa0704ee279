// Replays history to a joiner: only entries whose label the joiner's clearance grants, each with
// XEP-0203 <delay/>, rendered (marking, FLOT) for the joiner's client.
import type { Label } from "@cordon/policy";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import { selectHistory, type HistoryEntry, type HistoryRequest } from "../room/history.js";
import type { MucContext } from "./context.js";
import { deliverableLabel } from "./delivery.js";
import { messageForOccupant } from "./message-render.js";
import { delayXml } from "./stanzas.js";

export function historyStanzas(ctx: MucContext, room: Room, joiner: Occupant, request: HistoryRequest): string[] {
  if (room.history.length === 0) return [];
  const mayRead = (entry: HistoryEntry): Label | undefined => {
    const label = ctx.labels.resolveText(entry.label);
    if (!label) return undefined;
    return deliverableLabel(ctx, joiner, label);
  };
  const picked = selectHistory(room.history, request, mayRead, ctx.now(), (e) => (e.body?.length ?? 0) + e.extra.length + (e.rich?.length ?? 0) + e.label.length + 200);
  return picked.map(({ entry, label }) =>
    messageForOccupant(ctx, room, joiner, {
      type: "groupchat",
      fromNick: entry.nick,
      id: entry.id,
      body: entry.body,
      extra: entry.extra,
      rich: entry.rich,
      label,
      stanzaId: entry.sid,
      occupantId: entry.occupantId,
      senderJid: entry.from,
      delay: delayXml(entry.ts, room.jid),
    }),
  );
}

