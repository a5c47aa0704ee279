// Persistent rooms in the shared store (so a restarted component, or a second instance on ejabberd,
// finds them): the room record (config, subject, security parameters, affiliations) and its history.
import type { RoomRecord } from "@cordon/store";
import type { Room } from "../room/room.js";
import { Room as RoomClass } from "../room/room.js";
import { configFromRecord } from "../room/room-config.js";
import type { HistoryEntry } from "../room/history.js";
import type { MucContext } from "./context.js";
import type { Affiliation } from "../room/occupant.js";
import { storedLabelXml } from "./stanzas.js";
import { governedLabel } from "../security/governed-label.js";

/** Record config key of a room whose owner chose no default label (unlabelled messages refused). */
export const REFUSE_UNLABELLED = "refuseUnlabelled";

export function roomToRecord(room: Room): RoomRecord {
  const affiliations: Record<string, Exclude<Affiliation, "none">> = {};
  for (const [jid, a] of room.affiliations) if (a !== "none") affiliations[jid] = a;
  return {
    jid: room.jid,
    config: {
      ...room.config,
      subject: room.subject.text,
      subjectNick: room.subject.nick,
      locked: room.locked,
      // The owner's "none" for the default label: unlabelled messages refused (not the service's).
      ...(room.security.defaultLabel === null ? { [REFUSE_UNLABELLED]: true } : {}),
    },
    ...(room.security.raw.label ? { label: room.security.raw.label } : {}),
    ...(room.security.raw.clearance ? { clearance: room.security.raw.clearance } : {}),
    ...(room.security.raw.defaultLabel ? { defaultLabel: room.security.raw.defaultLabel } : {}),
    affiliations,
    persistent: room.config.persistent,
  };
}

/**
 * Rebuilds a room from its record. A stored label or clearance that no longer parses under the
 * loaded policies makes the room unusable rather than unlabelled: it is returned with `broken`.
 */
export function roomFromRecord(ctx: MucContext, record: RoomRecord): { room: Room; broken: boolean } {
  const config = configFromRecord(record.config, ctx.settings.roomDefaults);
  const parseLabel = (raw: RoomRecord["label"]) =>
    raw ? governedLabel(ctx, storedLabelXml(raw)) : undefined;
  const label = record.label ? parseLabel(record.label) : ctx.settings.defaultRoomLabel;
  const clearance = record.clearance
    ? ctx.clearances.parseRaw(record.clearance)
    : ctx.settings.defaultRoomClearance;
  const defaultLabel = record.defaultLabel
    ? parseLabel(record.defaultLabel)
    : record.config[REFUSE_UNLABELLED] === true
      ? null
      : undefined;
  const broken =
    (record.label !== undefined && !label) ||
    (record.clearance !== undefined && !clearance) ||
    (record.defaultLabel !== undefined && !defaultLabel);
  const room = new RoomClass(
    record.jid,
    config,
    {
      label,
      clearance,
      defaultLabel,
      raw: {
        ...(record.label ? { label: record.label } : {}),
        ...(record.clearance ? { clearance: record.clearance } : {}),
        ...(record.defaultLabel ? { defaultLabel: record.defaultLabel } : {}),
      },
    },
    ctx.budgets,
  );
  // A stored room had a past this process never saw: references to it cannot be judged (reference-index.ts).
  room.references.forgetPast();
  for (const [jid, a] of Object.entries(record.affiliations)) room.setAffiliation(jid, a);
  room.subject = {
    text: typeof record.config.subject === "string" ? record.config.subject : "",
    nick: typeof record.config.subjectNick === "string" ? record.config.subjectNick : "",
  };
  room.locked = record.config.locked === true;
  return { room, broken };
}

export async function persistHistory(ctx: MucContext, room: Room, entry: HistoryEntry): Promise<void> {
  try {
    await ctx.store.appendRoomHistory(
      room.jid,
      JSON.stringify(entry),
      // The store keeps the newest N of all labels: N covers every label's own limit (issue 15).
      Math.max(1, room.config.historyLength) * Math.max(1, room.budgets.history.labels(room)),
    );
  } catch (error) {
    ctx.logger.warn({ room: room.jid, err: (error as Error).message }, "could not store history entry");
  }
}

export function parseHistoryEntry(text: string): HistoryEntry | undefined {
  try {
    const v = JSON.parse(text) as Partial<HistoryEntry>;
    if (
      typeof v.sid !== "string" ||
      typeof v.ts !== "number" ||
      typeof v.nick !== "string" ||
      typeof v.label !== "string"
    )
      return undefined;
    // The labels of referenced messages: one that is not a string list cannot be judged (skipped).
    const refs = v.refs;
    if (refs !== undefined && (!Array.isArray(refs) || !refs.every((r) => typeof r === "string")))
      return undefined;
    return {
      sid: v.sid,
      id: typeof v.id === "string" ? v.id : undefined,
      ts: v.ts,
      nick: v.nick,
      occupantId: typeof v.occupantId === "string" ? v.occupantId : "",
      from: typeof v.from === "string" ? v.from : "",
      label: v.label,
      body: typeof v.body === "string" ? v.body : undefined,
      extra: typeof v.extra === "string" ? v.extra : "",
      ...(typeof v.rich === "string" ? { rich: v.rich } : {}),
      ...(refs ? { refs } : {}),
    };
  } catch {
    return undefined;
  }
}
