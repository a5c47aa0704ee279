// components.muc with `cluster:` (muc-cluster-config.ts): this process is one instance of the MUC
// domain. SlotTakeover (@cordon/muc src/cluster/slot-takeover.ts) holds its component connection,
// renews its lease in Redis (RedisMembership, @cordon/store) and, when it leads, holds spare
// connections for the slots of instances that are gone. Redis unreachable: no lease renewed, no
// spare opened or dropped (the round fails: fail closed), the connections held keep serving.
//
// The server decides what "slot" means:
// - ejabberd with `domain_balancing: {DOMAIN: {type: bare_destination, component_number: N}}`
//   and `cluster.slots: N`: every instance holds a slot, a dead one's slot is taken by a spare;
// - a server that holds one connection per component domain (Prosody 0.12: a second one gets the
//   stream error `conflict`, XEP-0114 §3): `slots: 1` is active/standby — the standby retries the
//   domain every round (quietly) and takes it when the active instance's connection is gone.
//   `slots` > 1 cannot work there: refused at start (ConfigError), logged once when a spare hits it.
// Two processes given one `instance` are told apart by a token in the name's claim: the later one
// waits a lease period (a crashed predecessor's claim lapses), then is refused (ConfigError, exit 2).
import { ConfigError, type CordonComponent } from "@cordon/component";
import { SlotTakeover, type MucLink, type MucService, type MucSettings } from "@cordon/muc";
import type { Policy, PolicyRegistry } from "@cordon/policy";
import { RedisMembership } from "@cordon/store";
import type { MucClusterSettings } from "../muc-cluster-config.js";
import type { RedisSection } from "../redis-config.js";
import type { RunnerContext, RunningComponent } from "./runner.js";
import { observeMemory } from "./ops.js";
import { clusterMemory, clusterMucOps } from "./muc-cluster-ops.js";

const CONFLICT = "CORDON_COMPONENT_CONFLICT";
/** RedisMembership: another live process holds this instance name. */
const DUPLICATE = "CORDON_STORE_DUPLICATE_INSTANCE";
/** Fatal at start whatever the cluster mode: the server refuses this component's settings. */
const REFUSED = new Set(["CORDON_COMPONENT_NOT_AUTHORIZED", "CORDON_COMPONENT_HOST_UNKNOWN"]);

export interface MucClusterRun {
  context: RunnerContext;
  cluster: MucClusterSettings;
  redis: RedisSection;
  domain: string;
  /** A component to this process's server, without a reconnect loop of its own. */
  createComponent(): CordonComponent;
  createService(component: CordonComponent): MucService;
  reread: (next: { registry: PolicyRegistry; governing: Policy }) => MucSettings;
  settings: () => MucSettings;
  targets: string[];
}

function slotsRefused(run: MucClusterRun): ConfigError {
  const { cluster, domain } = run;
  return new ConfigError(
    "components.muc.cluster.slots",
    `is ${cluster.slots}, but the XMPP server refused a second connection for ${domain} (conflict): ` +
      "it holds one connection per component domain (Prosody). Use slots: 1 (active/standby), or on " +
      `ejabberd set domain_balancing "${domain}": {type: bare_destination, component_number: ${cluster.slots}}`,
    run.context.config.file,
  );
}

/** Another live process renews this instance name (RedisMembership's token): refused at start. */
function duplicateRefused(run: MucClusterRun): ConfigError {
  const { cluster, domain } = run;
  return new ConfigError(
    "components.muc.cluster.instance",
    `is ${cluster.instance}, but another live process of ${domain} renews its lease under that name ` +
      `(waited ${cluster.leaseMs / 1000} s for it to lapse): give each process its own instance`,
    run.context.config.file,
  );
}

export async function runMucCluster(run: MucClusterRun): Promise<RunningComponent> {
  const { context, cluster, domain } = run;
  const logger = context.logger.child({ cluster: cluster.instance });
  const prefix = run.redis.prefix ?? "cordon:";
  const { url, sentinels, sentinelName, redisOptions, maxInFlightBytes } = run.redis.options;
  const membership = new RedisMembership({
    ...(url !== undefined ? { url } : {}),
    ...(sentinels ? { sentinels, sentinelName: sentinelName ?? "" } : {}),
    ...(redisOptions ? { redisOptions } : {}),
    ...(maxInFlightBytes !== undefined ? { maxInFlightBytes } : {}),
    prefix: prefix.replace(/:$/u, ""),
    group: domain,
    leaseMs: cluster.leaseMs,
  });
  let standby = false;
  let slotsWarned = false;
  const createLink = (): MucLink => {
    const component = run.createComponent();
    const service = run.createService(component);
    const link = { component, service };
    context.ops?.links.observe("muc", component);
    // A standby retries the domain every round: its refused attempts are not worth a log line each.
    const level = component.logger.level;
    if (standby) component.logger.level = "silent";
    component.once("online", () => {
      component.logger.level = level;
      if (standby) logger.warn({ domain }, "standby took over the MUC domain (the active instance is gone)");
      standby = false;
    });
    component.on("fatal", (error) => {
      if (error.code !== CONFLICT) return;
      if (cluster.slots === 1) {
        if (!standby)
          logger.info(
            { domain },
            "standby: another instance holds the MUC domain (one connection per domain); taking it over when it goes",
          );
        standby = true;
      } else if (!slotsWarned) {
        slotsWarned = true;
        logger.error({ domain }, slotsRefused(run).message);
      }
    });
    return link;
  };
  const takeover = new SlotTakeover({
    id: cluster.instance,
    slots: cluster.slots,
    membership,
    leaseMs: cluster.leaseMs,
    redialMs: cluster.redialMs,
    createLink,
    logger,
    fatalAtStart: (error) => {
      const code = (error as { code?: unknown }).code;
      return (typeof code === "string" && REFUSED.has(code)) || (code === CONFLICT && cluster.slots > 1);
    },
    closed: (link) => {
      context.ops?.links.forget("muc", link.component);
    },
  });
  const services = () => takeover.services;
  observeMemory(context.ops, "muc", () => clusterMemory(services()));
  try {
    await takeover.start();
  } catch (error) {
    await takeover.stop().catch(() => undefined);
    await membership.close();
    if ((error as { code?: unknown }).code === CONFLICT) throw slotsRefused(run);
    if ((error as { code?: unknown }).code === DUPLICATE) throw duplicateRefused(run);
    throw error;
  }
  logger.info(
    { domain, instance: cluster.instance, slots: cluster.slots, standby },
    "MUC cluster instance started",
  );
  return {
    name: "muc",
    targets: run.targets,
    ops: clusterMucOps(services, run.reread, run.settings),
    // SIGTERM: leave the membership at once (the others take the slots without waiting for the
    // lease), close every connection (primary and spares), then the lease connection.
    stop: async () => {
      await takeover.stop();
      await membership.close();
    },
  };
}
