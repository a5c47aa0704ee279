// components.relay: the label-filtering relay (keys documented in packages/relay/README.md):
//   audit: { file }                         the hash-chained audit log (verify with `cordon audit verify`)
//   peerings: { NAME: { local, remote, outbound, inbound } }
// Policies and the clearance store are the shared ones of the config's top level.
import {
  FileAuditSink,
  MemoryAuditSink,
  createRelay,
  readRelayConfig,
  type PeeringConfig,
} from "@cordon/relay";
import type { PolicyRebinder } from "../reload.js";
import { readMaxStanzaBytes } from "@cordon/component";
import { parseClearance, parseLabelData } from "@cordon/policy";
import type { ComponentRunner } from "./runner.js";
import { observeLinks, observeMemory, observeRelay, target } from "./ops.js";

export const runRelay: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  const top = context.config.root.optionalSection("server");
  const serverDefaults = {
    host: top?.optionalString("host") ?? "127.0.0.1",
    port: top?.has("port") ? top.port("port") : 5347,
    maxStanzaBytes: readMaxStanzaBytes(top, undefined),
  };
  // The relay's own policies first: its labels and clearances may be written in them.
  for (const file of section.stringList("policies")) await env.registry.loadFile(env.path(file));
  const config = readRelayConfig(section, {
    registry: env.registry,
    serverDefaults,
    path: (file) => env.path(file),
  });
  if (context.check) {
    // Validates the peerings and compiles their rules without opening the audit file or connecting.
    createRelay({
      peerings: config.peerings,
      registry: env.registry,
      store: env.store,
      users: env.users,
      audit: new MemoryAuditSink(false),
    });
    const targets = config.peerings.flatMap((p) => [
      ...p.remote.domains.map((d) =>
        target({ domain: d, service: p.local.service }, `peering ${p.name}, local server`),
      ),
      ...p.local.domains.map((d) =>
        target({ domain: d, service: p.remote.service }, `peering ${p.name}, remote server`),
      ),
    ]);
    return {
      name: "relay",
      stop: async () => undefined,
      targets: [...targets, `audit log ${env.path(config.auditFile)}`],
    };
  }
  const audit = await FileAuditSink.open(env.path(config.auditFile));
  const relay = createRelay({
    peerings: config.peerings,
    registry: env.registry,
    store: env.store,
    // User clearances: the store's overrides, then the LDAP directory (as the MUC and the catalog).
    users: env.users,
    audit,
    logger: context.logger,
    limits: config.limits,
  });
  observeLinks(context.ops, "relay", relay.links);
  observeRelay(context.ops, relay);
  observeMemory(context.ops, "relay", () => relay.memory());
  try {
    await relay.start();
  } catch (error) {
    await relay.stop();
    throw error;
  }
  return {
    name: "relay",
    stop: () => relay.stop(),
    ops: {
      peerings: () => relay.metrics(),
      rebinder: relayRebinder(config.peerings),
    },
  };
};

/**
 * The relay keeps its configured labels and clearances as data and re-parses them when the
 * registry's generation changes; a reload is refused unless every one of them (and each side's
 * policy) still reads under the new policies — else the relay would refuse all traffic.
 */
export function relayRebinder(peerings: readonly PeeringConfig[]): PolicyRebinder {
  return {
    prepare(next) {
      for (const p of peerings) {
        for (const side of [p.local, p.remote]) {
          next.registry.require(side.policy);
          if (side.defaultLabel !== undefined) parseLabelData(side.defaultLabel.trim(), next.registry);
          if (side.senderClearance !== undefined) parseClearance(side.senderClearance.trim(), next.registry);
        }
        for (const rules of [p.outbound, p.inbound]) {
          if (rules.defaultLabel !== undefined) parseLabelData(rules.defaultLabel.trim(), next.registry);
          if (rules.clearance !== undefined) parseClearance(rules.clearance.trim(), next.registry);
        }
      }
      return () => undefined;
    },
  };
}
