// Policy hot reload, the MUC's part: everything the service holds that is bound to Policy objects
// (the configured labels and clearances, each room's label / clearance / default label, each
// occupant's clearance) is re-read under the new policies before they switch. A room whose label,
// clearance or default label no longer reads refuses the whole reload: nothing changes. Once the
// registry has switched, the re-read state is installed in the same tick and every occupant the
// room label no longer admits under the new policies is removed.
import {
  rebindClearance,
  rebindLabel,
  type Clearance,
  type Label,
  type PolicyRegistry,
} from "@cordon/policy";
import { CordonError } from "@cordon/errors";
import type { MucContext, MucSettings } from "./context.js";
import { enforceRoomLabel } from "./owner.js";

/** The new policies and the service settings re-read under them. */
export interface PolicyReload {
  registry: PolicyRegistry;
  settings: MucSettings;
}

/** Something the MUC holds does not read under the new policies: the reload is refused. */
export class MucReloadError extends CordonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CORDON_MUC_RELOAD_REFUSED", message, options);
  }
}

/**
 * Re-reads the rooms and occupants under `next.registry` (throws MucReloadError, changing nothing,
 * when a room's security settings no longer read). Returns the install step, to be run in the tick
 * the shared registry switches to the new policies; `afterwards` runs then (the clearance refresh).
 */
export function preparePolicyReload(ctx: MucContext, next: PolicyReload, afterwards: () => void): () => void {
  const label = (l: Label, what: string) => rebind(what, () => rebindLabel(l, next.registry));
  const clearance = (c: Clearance) => rebindClearance(c, next.registry);
  const rooms = [...ctx.rooms.values()]
    .filter((r) => !r.destroyed)
    .map((room) => {
      const where = `room ${room.jid}`;
      const s = room.security;
      return {
        room,
        security: {
          ...s,
          label: s.label && label(s.label, `${where} label`),
          clearance: s.clearance && rebind(`${where} clearance`, () => clearance(s.clearance!)),
          defaultLabel: s.defaultLabel && label(s.defaultLabel, `${where} default label`),
        },
        occupants: [...room.occupants.values()].map((occupant) => {
          const state = occupant.clearance;
          // An occupant's clearance that does not read any more is left as is: the ACDF denies it
          // (policy mismatch), so the room label check below removes the occupant.
          if (state.status !== "known") return { occupant, before: state, state };
          try {
            return {
              occupant,
              before: state,
              state: { ...state, clearance: clearance(state.clearance) },
            };
          } catch {
            return { occupant, before: state, state };
          }
        }),
      };
    });
  return () => {
    Object.assign(ctx.settings, next.settings);
    for (const r of rooms) {
      r.room.security = r.security;
      // Only what was re-read here is written back (issue 15): a clearance changed since (a
      // lowering applied meanwhile) is not overwritten with the older one; it is unknown until the
      // refresh below reads it under the new policies.
      for (const o of r.occupants)
        o.occupant.clearance =
          o.occupant.clearance === o.before
            ? o.state
            : { status: "unknown", reason: "changed during a policy reload; re-reading" };
    }
    // Not awaited: the reload answers at once. Removals are logged when they fail to send.
    for (const r of rooms)
      void enforceRoomLabel(ctx, r.room).catch((error: Error) =>
        ctx.logger.warn(
          { room: r.room.jid, err: error.message },
          "could not remove an occupant after a reload",
        ),
      );
    afterwards();
  };
}

/** Re-reads one held value; one that does not read refuses the reload. */
function rebind<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new MucReloadError(`${what} does not parse under the new policies: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
