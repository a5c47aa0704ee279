// Room sync: persistent rooms between the service and the shared store. At start every stored
// room of the domain is loaded with its history; a store notification about a room (another
// instance, an administrator) re-reads it. A room whose stored label, clearance or default label
// does not read under the loaded policies is closed (fail closed): its occupants are removed
// (307, 333) and joins and re-creation of its JID are refused until it reads again.
import { forgetUnlabelledContent, isRelabel } from "../security/room-relabel.js";
import type { MucContext } from "./context.js";
import { removeOccupant } from "./presence.js";
import { destroyRoom, enforceRoomLabel } from "./owner.js";
import { roomFromRecord, parseHistoryEntry } from "./persistence.js";
import { historyEntryFits, subjectFits } from "./stored-bounds.js";
import type { Room } from "../room/room.js";

/**
 * A loaded room's subject over its bound is dropped (issue 14: it would be sent at every join);
 * counted and logged without its text.
 */
function boundSubject(ctx: MucContext, room: Room): void {
  if (subjectFits(ctx.component.limits, room.subject)) return;
  ctx.logger.warn({ room: room.jid }, "stored room subject over its size bound: dropped");
  ctx.observer?.skipped?.("subject", 1);
  room.subject = { text: "", nick: "" };
}

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
    boundSubject(ctx, room);
    // Issue 14: an entry over the bounds would close the stream at every join that replays it.
    let skipped = 0;
    for (const text of await store.getRoomHistory(jid)) {
      const entry = parseHistoryEntry(text);
      if (!entry) continue;
      if (historyEntryFits(ctx.component.limits, entry)) room.pushHistory(entry);
      else skipped += 1;
    }
    if (skipped > 0) {
      logger.warn({ room: jid, skipped }, "stored history entries over the size bounds: skipped");
      ctx.observer?.skipped?.("history", skipped);
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
    ctx.unreadableRooms.delete(jid);
    // Deleted elsewhere while this service holds it as persistent: destroyed there (XEP-0045
    // §10.9) — e.g. `components.muc.cluster`'s admin API on the instance that does not hold the
    // room's slot, which destroys its own copy. Kept live here, the room would go on serving its
    // occupants (and write itself back at its next save). A room this service made temporary
    // (its own config change deleted the record) is no longer persistent here: kept.
    if (live && !live.destroyed && live.config.persistent) {
      logger.info(
        { room: jid, occupants: live.occupants.size },
        "persistent room deleted elsewhere: destroyed",
      );
      await destroyRoom(ctx, live, undefined, undefined);
    }
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
          ours: true,
        });
      }
      live.releaseHistory();
      rooms.delete(jid);
    }
    return;
  }
  ctx.unreadableRooms.delete(jid);
  boundSubject(ctx, loaded);
  if (!live) {
    rooms.set(jid, loaded);
    return;
  }
  // A label changed elsewhere (another instance, a tool writing the store) forgets what was written
  // under the old one, as an owner's change does (security/room-relabel.ts).
  const relabelled = isRelabel(live.security.label, loaded.security.label);
  live.config = loaded.config;
  live.security = loaded.security;
  live.locked = loaded.locked;
  live.subject = loaded.subject;
  const hadSubject = relabelled && live.subject.text !== "";
  if (relabelled) forgetUnlabelledContent(live);
  live.affiliations.clear();
  for (const [j, a] of loaded.affiliations) live.setAffiliation(j, a);
  // The new label takes effect before anything is awaited (owner.ts `takeOutUncovered`).
  await enforceRoomLabel(ctx, live);
  if (hadSubject) await ctx.saveRoom(live);
}
