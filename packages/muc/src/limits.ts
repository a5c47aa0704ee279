// The MUC's memory limits and per-user quotas (`components.muc.limits`; defaults in the README's
// "Memory limits"): history per room and in total (room/history-budget.ts), occupants' presence
// payloads and rooms per user at once (room/occupant-budget.ts), rooms a user may create, and the
// runtime's throttle, pending decisions and outgoing queue (@cordon/component).
import { readBytes, readRuntimeLimits, RUNTIME_LIMIT_KEYS, type ConfigReader } from "@cordon/component";
import type { MucLimits } from "./service/context.js";

/**
 * Reads `limits: { history: { roomBytes, totalBytes }, presence: { occupantBytes, totalBytes },
 * rooms: { createdPerUser, joinedPerUser }, throttle, pending, queue }`.
 */
export function readMucLimits(limits: ConfigReader | undefined): MucLimits {
  if (!limits) return {};
  limits.only([...RUNTIME_LIMIT_KEYS, "history", "presence", "rooms"]);
  const history = limits.optionalSection("history")?.only(["roomBytes", "totalBytes"]);
  const presence = limits.optionalSection("presence")?.only(["occupantBytes", "totalBytes"]);
  const rooms = limits.optionalSection("rooms")?.only(["createdPerUser", "joinedPerUser"]);
  const size = (r: ConfigReader | undefined, name: string) =>
    r?.has(name) ? { [name]: readBytes(r, name, 0) } : {};
  const runtime = readRuntimeLimits(limits);
  return {
    ...runtime,
    history: { ...size(history, "roomBytes"), ...size(history, "totalBytes") },
    occupants: {
      ...size(presence, "occupantBytes"),
      ...size(presence, "totalBytes"),
      ...(rooms?.has("joinedPerUser")
        ? { roomsPerUser: rooms.integer("joinedPerUser", undefined, { min: 1 }) }
        : {}),
    },
    ...(rooms?.has("createdPerUser")
      ? { roomsCreatedPerUser: rooms.integer("createdPerUser", undefined, { min: 0 }) }
      : {}),
  };
}
