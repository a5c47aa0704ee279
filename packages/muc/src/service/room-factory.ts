// A new room (XEP-0045 §10.1): the creator becomes its owner and the room stays locked until the
// owner submits a configuration or accepts the defaults (instant room). Its label, clearance and
// default label come from the service configuration.
import { Room } from "../room/room.js";
import { ownString } from "../room/own-string.js";
import type { MucContext } from "./context.js";

export function newRoom(ctx: MucContext, roomJid: string, ownerBare: string): Room {
  const s = ctx.settings;
  const room = new Room(
    roomJid,
    { ...s.roomDefaults },
    {
      label: s.defaultRoomLabel,
      clearance: s.defaultRoomClearance,
      defaultLabel: s.defaultMessageLabel,
      raw: {},
    },
    ctx.budgets,
  );
  room.creator = ownString(ownerBare);
  room.setAffiliation(ownerBare, "owner");
  room.locked = true;
  ctx.rooms.set(room.jid, room); // the room's own copy of its JID (room/own-string.ts)
  return room;
}
