// components.guard: the central check's decision service (keys in packages/guard/README.md). The
// server modules (deploy/prosody, deploy/ejabberd) ask it about every message to a local user.
import { readConnection } from "@cordon/component";
import {
  createGuardService,
  GuardOptionsError,
  readGuardSection,
  rebindGuard,
  type GuardBound,
  type LatencyDelta,
} from "@cordon/guard";
import { encodeBerClearance, isValidLabel } from "@cordon/policy";
import { specOptions } from "../environment.js";
import type { ComponentRunner } from "./runner.js";
import { decisionCounter, observeLinks, observeMemory, target } from "./ops.js";
import type { PolicyRebinder } from "../reload.js";

/**
 * The guard's part of a policy reload: refused unless its configured labels and clearances (the
 * default label, the access label, the location clearances) all re-read under the new policies,
 * as the MUC's and the relay's are. The guard re-binds them itself at the switch (policy-rebind.ts);
 * one that did not read was kept bound to the old policy — granting nothing, so every unlabelled
 * message was refused (default-label-invalid) and, with an access label, nobody logged in, until
 * a restart (adversarial review adv15: the reload was accepted).
 */
export function guardRebinder(bound: GuardBound): PolicyRebinder {
  return {
    prepare(next) {
      const rebound = rebindGuard(bound, next.registry, (what, reason) => {
        throw new GuardOptionsError(`${what} does not read under the new policies: ${reason}`);
      });
      // Valid under the new policies too, as the configuration requires at start (config.ts).
      for (const [what, label] of [
        ["defaultLabel", rebound.defaultLabel],
        ["accessLabel", rebound.accessLabel],
      ] as const)
        if (label && !isValidLabel(label))
          throw new GuardOptionsError(`${what} is not valid under the new policies`);
      return () => undefined;
    },
  };
}

export const runGuard: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  const settings = readGuardSection(section, specOptions(env));
  const connection = readConnection(context.config, section);
  const counter = decisionCounter(context.ops, "guard");
  // grant = delivered; deny = refused or dropped, by reason (decide.ts GuardReason); refresh = a
  // question asked ahead of a kept verdict's end (the message went from the cache: counted there).
  const onDecision = counter
    ? (outcome: "deliver" | "refuse" | "drop", reason: string, refresh: boolean) =>
        counter(
          refresh ? "refresh" : outcome === "deliver" ? "grant" : "deny",
          outcome === "deliver" ? "deliver" : reason,
        )
    : undefined;
  // The server access label: grant = may bind a resource; deny by reason (access.ts AccessReason).
  const onAccess = counter
    ? (allowed: boolean, reason: string) => counter(allowed ? "grant" : "deny", `access:${reason}`)
    : undefined;
  // Messages the modules delivered from their verdict caches (packages/guard/src/cache-report.ts).
  const onCached = counter ? (count: number) => counter("grant", "deliver:cached", count) : undefined;
  // The latency the modules measured the check adding (packages/guard/src/latency-report.ts).
  const metrics = context.ops?.metrics;
  const onLatency = metrics
    ? (deltas: readonly LatencyDelta[]) => {
        metrics.guardHold.add(deltas);
        metrics.guardRoundTrip.add(deltas);
      }
    : undefined;
  const { serverClearance, ...guardSettings } = settings;
  const service = createGuardService({
    ...connection,
    logger: context.logger,
    registry: env.registry,
    store: env.store,
    users: env.users,
    ...guardSettings,
    ...(onDecision ? { onDecision } : {}),
    ...(onAccess ? { onAccess } : {}),
    ...(onCached ? { onCached } : {}),
    ...(onLatency ? { onLatency } : {}),
  });
  if (context.check) return { name: "guard", stop: () => service.stop(), targets: [target(connection)] };
  // One source for the server's clearance: the store, where the catalog reads it too.
  if (serverClearance) {
    const data = Buffer.from(encodeBerClearance(serverClearance)).toString("base64");
    for (const domain of settings.served)
      await env.store.setServiceClearance(domain, { encoding: "ber", data });
  }
  observeLinks(context.ops, "guard", [service.component]);
  observeMemory(context.ops, "guard", () => service.memory());
  await service.start();
  const bound: GuardBound = {
    defaultLabel: settings.defaultLabel,
    accessLabel: settings.accessLabel,
    locations: settings.locations,
    otherLocations: settings.otherLocations,
  };
  return { name: "guard", stop: () => service.stop(), ops: { rebinder: guardRebinder(bound) } };
};
