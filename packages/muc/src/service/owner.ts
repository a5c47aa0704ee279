// muc#owner (XEP-0045 §10): the configuration form, instant rooms (an empty submit, §10.1.2),
// cancelling the creation of a locked room, and destroying a room (§10.9). A new room label takes
// effect at once: occupants it no longer covers are removed (307, "clearance").
import { toBare, xml, stanzaError, type Element, type IqRequest } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { MucContext } from "./context.js";
import { NS_DATA, NS_MUC_OWNER } from "../namespaces.js";
import { roomConfigForm, readSubmittedConfig, type SecuritySettings } from "./room-config-form.js";
import { takeOut } from "./presence.js";
import { configChangeMessage, destroyPresence } from "./stanzas.js";
import { requireClearedActor } from "../security/room-authority.js";
import { forgetUnlabelledContent, isRelabel } from "../security/room-relabel.js";
import { readServiceBound } from "../security/service-clearance.js";
import { locationGrants } from "../security/occupant-location.js";

function requireOwner(room: Room, from: string): void {
  if (room.affiliationOf(toBare(from) ?? "") !== "owner")
    throw stanzaError("forbidden", "auth", "only owners may do this");
}

export async function ownerGet(ctx: MucContext, room: Room, request: IqRequest): Promise<Element> {
  requireOwner(room, request.from);
  await requireClearedActor(ctx, room, request.from);
  return xml("query", { xmlns: NS_MUC_OWNER }, roomConfigForm(ctx, room));
}

export async function ownerSet(ctx: MucContext, room: Room, request: IqRequest): Promise<void> {
  requireOwner(room, request.from);
  await requireClearedActor(ctx, room, request.from);
  const destroy = request.payload.getChild("destroy");
  if (destroy) return destroyRoom(ctx, room, destroy.getChildText("reason") ?? undefined, destroy.attrs.jid);
  const form = request.payload.getChild("x", NS_DATA);
  if (!form) throw stanzaError("bad-request", "modify", "expected a data form or <destroy/>");
  if (form.attrs.type === "cancel") {
    if (room.locked) await destroyRoom(ctx, room, undefined, undefined);
    return;
  }
  if (form.attrs.type !== "submit") throw stanzaError("bad-request", "modify", "the form must be submitted");
  const submitter = await ctx.clearances.lookup(toBare(request.from) ?? "");
  if (submitter.status === "unknown")
    throw stanzaError("internal-server-error", "wait", "your clearance cannot be determined right now");
  const submitted = readSubmittedConfig(
    ctx,
    room,
    form,
    submitter.status === "known" ? submitter.clearance : undefined,
    await readServiceBound(ctx),
  );
  const wasPersistent = room.config.persistent;
  room.config = submitted.config;
  const removals = applySecurity(ctx, room, submitted);
  const unlocked = room.locked;
  room.locked = false;
  if (removals.length > 0) await ctx.send(removals);
  if (room.config.persistent || wasPersistent) {
    if (room.config.persistent) await ctx.saveRoom(room);
    else await ctx.store.deleteRoom(room.jid).catch(() => false);
  }
  if (!unlocked) await notifyConfigChange(ctx, room);
}

/**
 * Installs new security settings (an owner's form, the service operator's change) and takes
 * everyone the room label no longer covers out of the room at once; returns the presences that tell
 * them (not sent). The new label takes effect before anything is awaited: an occupant it no longer
 * covers must not stay in the room — and receive what is written in it under the new label (status
 * texts, role change reasons) — while the record is written to a slow store (adversarial review,
 * issue 15). A changed label forgets the subject and status texts (security/room-relabel.ts).
 */
export function applySecurity(ctx: MucContext, room: Room, settings: SecuritySettings): string[] {
  if (settings.label) {
    if (isRelabel(room.security.label, settings.label.label)) forgetUnlabelledContent(room);
    room.security.label = settings.label.label;
    room.security.raw.label = settings.label.raw;
  }
  if (settings.clearance) {
    room.security.clearance = settings.clearance.clearance;
    room.security.raw.clearance = settings.clearance.raw;
  }
  if (settings.defaultLabel) {
    room.security.defaultLabel = settings.defaultLabel.label;
    if (settings.defaultLabel.raw) room.security.raw.defaultLabel = settings.defaultLabel.raw;
    else delete room.security.raw.defaultLabel;
  }
  return takeOutUncovered(ctx, room);
}

/** XEP-0045 §10.2.1: status 104 tells occupants the configuration changed. */
export async function notifyConfigChange(ctx: MucContext, room: Room): Promise<void> {
  await ctx.send([...room.occupants.values()].map((o) => configChangeMessage(room.jid, o.jid)));
}

/**
 * Takes every occupant the room label no longer admits (or whose clearance is now nil) out of the
 * room at once, all of them before anything is sent, and returns the presences that tell everyone
 * (presence.ts `takeOut`): no one the label does not cover is still in the room while another's
 * removal waits for the link.
 */
export function takeOutUncovered(ctx: MucContext, room: Room): string[] {
  const out: string[] = [];
  for (const occupant of [...room.occupants.values()]) {
    if (occupant.clearance.status === "unknown") continue; // nothing labelled reaches them meanwhile
    const clearance = occupant.clearance.status === "known" ? occupant.clearance.clearance : undefined;
    const covered = ctx.labels.grants(room.security.label, clearance);
    // Where the session is, too (security/occupant-location.ts): a label its location does not
    // grant is not the room for it.
    if (!covered || !room.security.label || !locationGrants(ctx, occupant, room.security.label)) {
      out.push(
        ...takeOut(ctx, room, occupant, {
          statuses: [307],
          reason: covered
            ? "Where you are connected from is not cleared for this room's label"
            : "Your clearance does not cover this room's label",
          ours: true,
        }),
      );
    }
  }
  return out;
}

/** Removes every occupant the room label no longer admits, then tells everyone. */
export async function enforceRoomLabel(ctx: MucContext, room: Room): Promise<void> {
  const out = takeOutUncovered(ctx, room);
  if (out.length > 0) await ctx.send(out);
}

export async function destroyRoom(
  ctx: MucContext,
  room: Room,
  reason: string | undefined,
  alternate: string | undefined,
): Promise<void> {
  room.destroyed = true;
  const out: string[] = [];
  for (const occupant of room.occupants.values()) {
    // The owner's reason and alternate venue are room content: only for occupants whose clearance
    // is known now; the others are told the room is gone, nothing more.
    const known = occupant.clearance.status === "known";
    out.push(
      destroyPresence({
        from: `${room.jid}/${occupant.nick}`,
        to: occupant.jid,
        reason: known ? reason : undefined,
        alternate: known ? alternate : undefined,
      }),
    );
  }
  for (const occupant of [...room.occupants.values()]) room.remove(occupant);
  room.occupants.clear();
  room.byJid.clear();
  room.releaseHistory();
  ctx.rooms.delete(room.jid);
  await ctx.send(out);
  await ctx.store
    .deleteRoom(room.jid)
    .catch((error: Error) =>
      ctx.logger.warn({ room: room.jid, err: error.message }, "could not delete the room record"),
    );
  ctx.logger.info({ room: room.jid }, "room destroyed");
}
