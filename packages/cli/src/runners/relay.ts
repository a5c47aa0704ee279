// components.relay: the label-filtering relay (keys documented in packages/relay/README.md):
//   audit: { file, key | keyFile, anchorEvery }   the keyed hash-chained audit log (`cordon audit verify`)
//   peerings: { NAME: { local, remote, outbound, inbound } }
// Policies and the clearance store are the shared ones of the config's top level.
import { MemoryAuditSink, createRelay, type PeeringConfig } from "@cordon/relay";
import type { PolicyRebinder } from "../reload.js";
import { readMaxStanzaBytes, type ConfigReader } from "@cordon/component";
import { relaySettings } from "../peer-clearances.js";
import { parseClearance, parseLabelData } from "@cordon/policy";
import type { ComponentRunner } from "./runner.js";
import { observeLinks, observeMemory, observeRelay, target } from "./ops.js";
import { auditKeyFile, openKeyedAuditLog } from "../audit-log.js";
import { peeringViews } from "../admin/peering-view.js";

export const runRelay: ComponentRunner = async (context, section) => {
  const env = await context.environment();
  // The relay's own policies first (its labels and clearances may be written in them); read once,
  // shared with the catalog (its configured peer clearances, peer-clearances.ts).
  const config = await relaySettings(env, section, relayServerDefaults(context.config.root));
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
      targets: [
        ...targets,
        `audit log ${env.path(config.auditFile)} (HMAC key ${config.audit.key !== undefined ? "configured" : `in ${auditKeyFile(config.audit, context.config.root)}`}, anchor every ${config.audit.anchorEvery} records)`,
      ],
    };
  }
  // Keyed chain (issue 16 item 9): the key configured, or generated at first start (audit-log.ts).
  const {
    sink: audit,
    file: auditFile,
    key: auditKey,
  } = await openKeyedAuditLog(config.audit, context.config.root, context.logger, (p) => env.path(p));
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
      // Read under the policies loaded now (a reload re-binds them).
      peeringViews: () => peeringViews(config.peerings, env.registry),
      auditLog: { name: "relay", file: auditFile, key: auditKey },
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

/** Host and port of sides that name no `server`: the config's top-level `server`. */
export function relayServerDefaults(root: ConfigReader): {
  host: string;
  port: number;
  maxStanzaBytes: number;
} {
  const top = root.optionalSection("server");
  return {
    host: top?.optionalString("host") ?? "127.0.0.1",
    port: top?.has("port") ? top.port("port") : 5347,
    maxStanzaBytes: readMaxStanzaBytes(top, undefined),
  };
}
