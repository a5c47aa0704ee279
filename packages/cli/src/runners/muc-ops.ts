// Operator hooks of the MUC runner: the rooms and the service operator's room operations for the
// admin API (routes/rooms.ts; the rules are the MUC's own, @cordon/muc service/operator.ts), and the
// policy re-binder, which re-reads the MUC's settings under the new policies and hands them to the
// service's own reloadPolicies (a room whose security settings no longer read refuses the reload).
import type { Policy, PolicyRegistry } from "@cordon/policy";
import type { MucService, MucSettings } from "@cordon/muc";
import type { ComponentOps } from "./ops.js";

export function mucOps(
  service: MucService,
  reread: (next: { registry: PolicyRegistry; governing: Policy }) => MucSettings,
  /** The settings in force (replaced by a policy reload): the labels the service offers by name. */
  settings: () => MucSettings,
): ComponentOps {
  return {
    rooms: { operator: service.operator, namedLabels: () => settings().namedLabels },
    rebinder: {
      prepare: (next) => service.reloadPolicies({ registry: next.registry, settings: reread(next) }),
    },
  };
}
