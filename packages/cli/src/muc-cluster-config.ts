// `components.muc.cluster`: several `cordon start` processes serving one MUC domain, read the same
// way by `cordon start` and `cordon check-config` (runners/muc.ts):
//   cluster:
//     instance: node1      # required: this process's id, unique among the domain's instances
//     slots: 2             # required: ejabberd's domain_balancing component_number for the domain;
//                          # 1 = active/standby (Prosody, which holds one connection per domain)
//     leaseSeconds: 3      # an instance silent this long counts as gone (default 3)
//     redialSeconds: 5     # a spare that received nothing is redialled after this long (default 5)
// The instances share leases, rooms and history through the Redis store (store.redis, one Redis
// or Sentinel): with the in-memory store each process would serve its rooms alone, so the key is
// refused there. How the slots move: packages/muc/src/cluster/slot-takeover.ts and the MUC README.
import type { ConfigReader } from "@cordon/component";
import type { RedisSection } from "./redis-config.js";

export interface MucClusterSettings {
  instance: string;
  slots: number;
  leaseMs: number;
  redialMs: number;
  /** Where the leases are (no secrets), for check-config. */
  describe(domain: string): string;
}

const KEYS = ["instance", "slots", "leaseSeconds", "redialSeconds"] as const;

/** Reads `cluster` of a MUC section; undefined without one. `redis`: the store's Redis, if any. */
export function readMucCluster(
  muc: ConfigReader,
  redis: RedisSection | undefined,
): MucClusterSettings | undefined {
  const cluster = muc.optionalSection("cluster");
  if (!cluster) return undefined;
  cluster.only(KEYS);
  const instance = cluster.string("instance");
  // Ids are compared as strings (the lowest live id leads) and stored in one Redis hash field.
  if (!/^[A-Za-z0-9._-]{1,64}$/u.test(instance))
    cluster.fail("instance", "expected 1 to 64 characters of A-Z a-z 0-9 . _ - (unique per instance)");
  if (!cluster.has("slots"))
    cluster.fail("slots", "required: ejabberd's component_number for the domain, or 1 for active/standby");
  const slots = cluster.integer("slots", undefined, { min: 1, max: 64 });
  const leaseSeconds = cluster.integer("leaseSeconds", 3, { min: 2, max: 60 });
  const redialSeconds = cluster.integer("redialSeconds", 5, { min: 1, max: 300 });
  if (!redis)
    muc.fail(
      "cluster",
      "needs the Redis store (store.redis): the instances share their leases, rooms and history through it; " +
        "with the in-memory store every process would serve its rooms alone",
    );
  return {
    instance,
    slots,
    leaseMs: leaseSeconds * 1000,
    redialMs: redialSeconds * 1000,
    describe: (domain) =>
      `cluster: instance ${instance} of ${domain}, ${slots === 1 ? "1 slot (active/standby)" : `${slots} slots (ejabberd domain_balancing component_number: ${slots})`}, leases of ${leaseSeconds} s in redis ${redis.where}`,
  };
}
