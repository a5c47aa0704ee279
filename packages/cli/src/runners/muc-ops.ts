// Operator hooks of the MUC runner: the room listing of the admin API, and the policy re-binder
// that re-parses, under a reloaded policy set, every label and clearance the service holds (the
// configured labels, each room's label/clearance/default label, each occupant's clearance). A room
// whose label no longer parses rejects the whole reload (the old policies stay).
import {
  clearanceMarking,
  encodeBerClearance,
  encodeEssLabel,
  labelMarking,
  parseClearance,
  parseLabelData,
  type Clearance,
  type Label,
  type PolicyRegistry,
} from "@cordon/policy";
import type { MucService, MucSettings } from "@cordon/muc";
import type { RuntimeEnvironment } from "../environment.js";
import { PolicyReloadError } from "../ops-errors.js";
import type { ComponentOps, RoomSummary } from "./ops.js";

export function mucOps(
  env: RuntimeEnvironment,
  service: MucService,
  settings: MucSettings,
  reread: (env: RuntimeEnvironment) => MucSettings,
): ComponentOps {
  return {
    rooms: () => roomSummaries(service),
    rebinder: {
      prepare(next) {
        const shadow: RuntimeEnvironment = { ...env, registry: next.registry, governing: next.governing };
        const fresh = reread(shadow);
        const rooms = [...service.rooms.values()]
          .filter((r) => !r.destroyed)
          .map((room) => {
            const where = `room ${room.jid}`;
            const s = room.security;
            return {
              room,
              security: {
                ...s,
                label: s.label && rebindLabel(s.label, next.registry, `${where} label`),
                clearance: s.clearance && rebindClearance(s.clearance, next.registry, `${where} clearance`),
                defaultLabel:
                  s.defaultLabel && rebindLabel(s.defaultLabel, next.registry, `${where} default label`),
              },
              occupants: [...room.occupants.values()].map((occupant) => {
                const state = occupant.clearance;
                // An occupant's clearance that does not parse any more is left as is: the ACDF then
                // denies it (policy mismatch) until the next refresh reads it again.
                if (state.kind !== "known") return { occupant, state };
                try {
                  return {
                    occupant,
                    state: {
                      ...state,
                      clearance: parseClearance(encodeBerClearance(state.clearance), next.registry),
                    },
                  };
                } catch {
                  return { occupant, state };
                }
              }),
            };
          });
        return () => {
          Object.assign(settings, fresh);
          for (const r of rooms) {
            r.room.security = r.security;
            for (const o of r.occupants) o.occupant.clearance = o.state;
          }
          // Anyone whose (re-parsed) clearance no longer covers their room is removed now. Not awaited:
          // the reload answers at once; a failed re-read leaves the periodic refresh to catch up.
          void service.refreshClearances().catch(() => undefined);
        };
      },
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

function rebindLabel(label: Label, registry: PolicyRegistry, what: string): Label {
  try {
    return parseLabelData(encodeEssLabel(label), registry);
  } catch (error) {
    throw new PolicyReloadError(
      `${what} does not parse under the new policies: ${(error as Error).message}`,
      undefined,
      { cause: error },
    );
  }
}

function rebindClearance(clearance: Clearance, registry: PolicyRegistry, what: string): Clearance {
  try {
    return parseClearance(encodeBerClearance(clearance), registry);
  } catch (error) {
    throw new PolicyReloadError(
      `${what} does not parse under the new policies: ${(error as Error).message}`,
      undefined,
      { cause: error },
    );
  }
}
