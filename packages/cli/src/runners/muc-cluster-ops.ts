// Operator hooks of a clustered MUC (components.muc.cluster): this process runs one MUC service per
// component connection it holds (its own, plus spares for a dead instance's slots; the set changes
// as slots move). The admin API sees them as one service: a room is operated on where its occupants
// are (one connection holds a room's slot), a room nobody is in on the primary (its state is in
// Redis, which every service reads); a policy reload re-binds every service in one step.
import type { BufferUse } from "@cordon/component";
import {
  MucOperatorUnavailableError,
  type MucOperator,
  type MucService,
  type MucSettings,
  type RoomView,
} from "@cordon/muc";
import type { Policy, PolicyRegistry } from "@cordon/policy";
import type { ComponentOps } from "./ops.js";

/** The service holding `jid`'s occupants, else the primary (first); throws when there is none. */
function serving(services: readonly MucService[], jid: string): MucService {
  const held = services.find((s) => (s.rooms.get(jid)?.size ?? 0) > 0) ?? services[0];
  if (!held)
    throw new MucOperatorUnavailableError("this instance holds no connection now (standby): try another");
  return held;
}

export function clusterOperator(services: () => readonly MucService[]): MucOperator {
  return {
    rooms(): RoomView[] {
      const seen = new Map<string, RoomView>();
      const all = services();
      for (const service of all)
        for (const view of service.operator.rooms()) {
          const held = serving(all, view.jid) === service;
          if (held || !seen.has(view.jid)) seen.set(view.jid, view);
        }
      return [...seen.values()].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
    },
    room: (jid) => serving(services(), jid).operator.room(jid),
    create: (request) => serving(services(), "").operator.create(request),
    relabel: (jid, choices) => serving(services(), jid).operator.relabel(jid, choices),
    kick: (jid, nick, reason) => serving(services(), jid).operator.kick(jid, nick, reason),
    destroy: (jid, reason) => serving(services(), jid).operator.destroy(jid, reason),
  };
}

export function clusterMucOps(
  services: () => readonly MucService[],
  reread: (next: { registry: PolicyRegistry; governing: Policy }) => MucSettings,
  settings: () => MucSettings,
): ComponentOps {
  return {
    rooms: { operator: clusterOperator(services), namedLabels: () => settings().namedLabels },
    rebinder: {
      prepare(next) {
        // Every service must accept the new policies before any installs them (all or nothing).
        const fresh = reread(next);
        const installs = services().map((s) =>
          s.reloadPolicies({ registry: next.registry, settings: fresh }),
        );
        return () => installs.forEach((install) => install());
      },
    },
  };
}

/** The buffers of every service, summed per buffer name (the memory gauges hold one value each). */
export function clusterMemory(services: readonly MucService[]): BufferUse[] {
  const byName = new Map<string, BufferUse>();
  for (const use of services.flatMap((s) => s.memory())) {
    const sum = byName.get(use.buffer);
    byName.set(
      use.buffer,
      sum
        ? {
            buffer: use.buffer,
            bytes: sum.bytes + use.bytes,
            maxBytes: sum.maxBytes + use.maxBytes,
            entries: sum.entries + use.entries,
          }
        : { ...use },
    );
  }
  return [...byName.values()];
}
