// One source for peer clearances (issue 16 item 11): a peering configured only in the relay's YAML
// was invisible to the catalog, which read peer clearances from the store alone (remote targets got
// item-not-found while the relay let the same traffic cross). In `cordon start`, the relay's
// configured direction clearances are laid over the store's peer clearances for every component
// that reads them (the catalog): for each remote domain of a peering, `outbound.clearance` is the
// peer's outbound clearance and `inbound.clearance` its inbound one; where the relay configures
// none, the store's answer stands — exactly the order the relay itself decides with.
import { foldDomainpart } from "@cordon/component";
import type { ConfigReader } from "@cordon/component";
import { readRelayConfig, type PeeringConfig, type RelayConfig } from "@cordon/relay";
import type { ClearanceLookup, ClearanceStore, PeerDirection } from "@cordon/store";
import type { RuntimeEnvironment } from "./environment.js";

export type ConfiguredPeers = ReadonlyMap<string, Partial<Record<PeerDirection, string>>>;

/** Remote domain → the relay's configured clearance data (base64 BER) per direction. */
export function configuredPeers(peerings: readonly PeeringConfig[]): ConfiguredPeers {
  const peers = new Map<string, Partial<Record<PeerDirection, string>>>();
  for (const p of peerings) {
    for (const domain of p.remote.domains) {
      const entry = peers.get(foldDomainpart(domain)) ?? {};
      if (p.outbound.clearance !== undefined) entry.outbound ??= p.outbound.clearance;
      if (p.inbound.clearance !== undefined) entry.inbound ??= p.inbound.clearance;
      if (entry.outbound !== undefined || entry.inbound !== undefined)
        peers.set(foldDomainpart(domain), entry);
    }
  }
  return peers;
}

/** The store, with the configured peer clearances answering first. */
export function withConfiguredPeers<S extends ClearanceStore>(store: S, peers: ConfiguredPeers): S {
  if (peers.size === 0) return store;
  const getPeerClearance = async (domain: string, direction: PeerDirection): Promise<ClearanceLookup> => {
    const data = peers.get(foldDomainpart(domain))?.[direction];
    if (data !== undefined) return { status: "known", clearance: { encoding: "ber", data }, source: "store" };
    return store.getPeerClearance(domain, direction);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "getPeerClearance") return getPeerClearance;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const read = new WeakMap<RuntimeEnvironment, RelayConfig>();

/**
 * `components.relay` read once per environment (its own `policies` loaded into the shared registry
 * first): the relay runs on it, and the catalog takes its configured peer clearances from it.
 */
export async function relaySettings(
  env: RuntimeEnvironment,
  section: ConfigReader,
  serverDefaults: { host: string; port: number; maxStanzaBytes?: number },
): Promise<RelayConfig> {
  const known = read.get(env);
  if (known) return known;
  for (const file of section.stringList("policies")) await env.registry.loadFile(env.path(file));
  const config = readRelayConfig(section, {
    registry: env.registry,
    serverDefaults,
    path: (p) => env.path(p),
  });
  read.set(env, config);
  return config;
}
