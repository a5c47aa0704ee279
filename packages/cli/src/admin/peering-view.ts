// A relay peering as the admin console shows it (issue 18 "Boundary"): each side's domains and
// policy, each direction's clearance and controls, its labels as markings in their policy colours.
// Never the XEP-0114 secrets, never the words of a content list (they name what must not cross:
// the console says how many and for which classifications).
import { parseClearance, parseLabelData, type PolicyRegistry } from "@cordon/policy";
import type { DirectionRules, PeeringConfig, SideConfig } from "@cordon/relay";
import { clearanceView, labelView, type MarkingView } from "./marking-view.js";

/** A configured label or clearance: its marking, or that it does not read under the loaded policies. */
export type ConfiguredMarking = { marking: MarkingView } | { unreadable: true };

export interface SideView {
  service: string;
  domains: string[];
  mucDomains: string[];
  policy: { id: string; name?: string };
  labelAware: boolean;
  markingLang: string;
  defaultLabel?: ConfiguredMarking;
  senderClearance?: ConfiguredMarking;
}

export interface DirectionView {
  /** "config": the direction's configured clearance; "store": the store's peer clearance of each far-side domain. */
  clearance: ({ source: "config" } & ConfiguredMarking) | { source: "store"; domains: string[] };
  defaultLabel?: ConfiguredMarking;
  peers: { kind: "grant" | "deny"; domains: string[] };
  unlabelled: DirectionRules["unlabelled"];
  malformed: DirectionRules["malformed"];
  messageTypes: string[];
  mode: DirectionRules["mode"];
  chatStates: DirectionRules["chatStates"];
  receipts: DirectionRules["receipts"];
  elements: DirectionRules["elements"];
  fileTransfer: DirectionRules["fileTransfer"];
  presence: DirectionRules["presence"];
  /** Word lists: how many words, for which classifications (never the words). */
  content: { words: number; classifications?: string[] }[];
  iq: { namespaces: readonly string[] | "any" };
}

export interface PeeringView {
  name: string;
  local: SideView;
  remote: SideView;
  outbound: DirectionView;
  inbound: DirectionView;
}

function label(data: string | undefined, registry: PolicyRegistry): ConfiguredMarking | undefined {
  if (data === undefined) return undefined;
  try {
    return { marking: labelView(parseLabelData(data.trim(), registry)) };
  } catch {
    return { unreadable: true };
  }
}

function clearance(data: string | undefined, registry: PolicyRegistry): ConfiguredMarking | undefined {
  if (data === undefined) return undefined;
  try {
    return { marking: clearanceView(parseClearance(data.trim(), registry)) };
  } catch {
    return { unreadable: true };
  }
}

function side(s: SideConfig, registry: PolicyRegistry): SideView {
  const policy = registry.get(s.policy);
  const defaultLabel = label(s.defaultLabel, registry);
  const senderClearance = clearance(s.senderClearance, registry);
  return {
    service: s.service,
    domains: [...s.domains],
    mucDomains: [...s.mucDomains],
    policy: { id: s.policy, ...(policy ? { name: policy.name } : {}) },
    labelAware: s.labelAware,
    markingLang: s.markingLang,
    ...(defaultLabel ? { defaultLabel } : {}),
    ...(senderClearance ? { senderClearance } : {}),
  };
}

function direction(r: DirectionRules, farDomains: string[], registry: PolicyRegistry): DirectionView {
  const configured = clearance(r.clearance, registry);
  const defaultLabel = label(r.defaultLabel, registry);
  return {
    clearance: configured
      ? { source: "config", ...configured }
      : { source: "store", domains: [...farDomains] },
    ...(defaultLabel ? { defaultLabel } : {}),
    peers: { kind: r.peers.kind, domains: [...r.peers.domains] },
    unlabelled: { ...r.unlabelled },
    malformed: r.malformed,
    messageTypes: [...r.messageTypes],
    mode: r.mode,
    chatStates: r.chatStates,
    receipts: r.receipts,
    elements: r.elements.map((e) => ({ ...e })),
    fileTransfer: { ...r.fileTransfer },
    presence: { mode: r.presence.mode, keep: [...r.presence.keep] },
    content: r.content.map((w) => ({
      words: w.words.length,
      ...(w.classifications ? { classifications: [...w.classifications] } : {}),
    })),
    iq: { namespaces: r.iq.namespaces === "any" ? "any" : [...r.iq.namespaces] },
  };
}

/** The view of each peering, read under the policies loaded now. */
export function peeringViews(peerings: readonly PeeringConfig[], registry: PolicyRegistry): PeeringView[] {
  return peerings.map((p) => ({
    name: p.name,
    local: side(p.local, registry),
    remote: side(p.remote, registry),
    // Outbound crosses from local to remote: the far side is the remote one (and inbound the reverse).
    outbound: direction(p.outbound, p.remote.domains, registry),
    inbound: direction(p.inbound, p.local.domains, registry),
  }));
}
