// Operator hooks of the MUC runner: the room listing of the admin API, and the policy re-binder,
// which re-reads the MUC's settings under the new policies and hands them to the service's own
// reloadPolicies (a room whose security settings no longer read refuses the reload).
import { clearanceMarking, labelMarking, type Policy, type PolicyRegistry } from "@cordon/policy";
import type { MucService, MucSettings } from "@cordon/muc";
import type { ComponentOps, RoomSummary } from "./ops.js";

export function mucOps(
  service: MucService,
  reread: (next: { registry: PolicyRegistry; governing: Policy }) => MucSettings,
): ComponentOps {
  return {
    rooms: () => roomSummaries(service),
    rebinder: {
      prepare: (next) => service.reloadPolicies({ registry: next.registry, settings: reread(next) }),
    },
  };
}

export function roomSummaries(service: MucService): RoomSummary[] {
  return [...service.rooms.values()]
    .filter((room) => !room.destroyed)
    .map((room) => ({
      jid: room.jid,
      name: room.config.name,
      label: room.security.label ? labelMarking(room.security.label) : null,
      clearance: room.security.clearance ? clearanceMarking(room.security.clearance) : null,
      defaultLabel: room.security.defaultLabel ? labelMarking(room.security.defaultLabel) : null,
      occupants: room.occupants.size,
      persistent: room.config.persistent,
    }))
    .sort((a, b) => a.jid.localeCompare(b.jid));
}
