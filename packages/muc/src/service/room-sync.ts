// Room sync: persistent rooms between the service and the shared store. At start every stored
// room of the domain is loaded with its history; a store notification about a room (another
// instance, an administrator) re-reads it. A room whose stored label, clearance or default label
// does not read under the loaded policies is closed (fail closed): its occupants are removed
// (307, 333) and joins and re-creation of its JID are refused until it reads again.
import type { MucContext } from "./context.js";
import { removeOccupant } from "./presence.js";
import { enforceRoomLabel } from "./owner.js";
import { roomFromRecord, parseHistoryEntry } from "./persistence.js";

/** Loads every persistent room of the service's domain, with its history. */
export async function loadRooms(ctx: MucContext): Promise<void> {
  const { store, logger, rooms } = ctx;
  for (const jid of await store.listRooms(ctx.settings.domain)) {
    const record = await store.getRoom(jid);
    if (!record) continue;
    const { room, broken } = roomFromRecord(ctx, record);
    if (broken) {
      logger.error(
        { room: jid },
        "room security settings do not parse under the loaded policies; room closed until they do",
      );
      ctx.unreadableRooms.add(jid);
      continue;
    }
    for (const text of await store.getRoomHistory(jid)) {
      const entry = parseHistoryEntry(text);
      if (entry) room.pushHistory(entry);
    }
    rooms.set(jid, room);
  }
  logger.info({ rooms: rooms.size }, "persistent rooms loaded");
}

/** Re-reads one room's record after a store notification and applies it to the live room. */
export async function syncRoom(ctx: MucContext, jid: string): Promise<void> {
  const { store, logger, rooms } = ctx;
  let record;
  try {
    record = await store.getRoom(jid);
  } catch (error) {
    logger.warn({ room: jid, err: (error as Error).message }, "could not reload room");
    return;
  }
  const live = rooms.get(jid);
  if (!record) {
    ctx.unreadableRooms.delete(jid); // deleted elsewhere (or never persistent): keep the live state
    return;
  }
  const { room: loaded, broken } = roomFromRecord(ctx, record);
  if (broken) {
    // Fail closed: nobody stays in, or enters, a room whose label cannot be read now.
    logger.error({ room: jid }, "room security settings do not parse; room closed until they do");
    ctx.unreadableRooms.add(jid);
    if (live) {
      for (const occupant of [...live.occupants.values()]) {
        await removeOccupant(ctx, live, occupant, {
          statuses: [307, 333],
          reason: "The room's security settings cannot be read",
        });
      }
      rooms.delete(jid);
    }
    return;
  }
  ctx.unreadableRooms.delete(jid);
  if (!live) {
    rooms.set(jid, loaded);
    return;
  }
  live.config = loaded.config;
  live.security = loaded.security;
  live.locked = loaded.locked;
  live.subject = loaded.subject;
  live.affiliations.clear();
  for (const [j, a] of loaded.affiliations) live.setAffiliation(j, a);
  await enforceRoomLabel(ctx, live);
}
