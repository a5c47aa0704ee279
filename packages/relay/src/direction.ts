// Which way a stanza crosses, and whether its addresses allow it to cross at all. A stanza that
// arrives on the relay's link to server X was addressed to one of the other side's domains (the
// relay claims exactly those on X); it crosses to side Y and is re-emitted there with the same
// `from`, which must therefore be one of X's domains (the relay owns those on Y).
// RFC 6120 §8.1.1-8.1.2 (https://www.rfc-editor.org/rfc/rfc6120#section-8.1.1): `to` and `from`.
import { bareJid, parseJid, type Element, type Jid } from "@cordon/component";
import type { DirectionName, DirectionRules, PeerRule, PeeringConfig, SideConfig } from "./peering.js";

export type StanzaKind = "message" | "presence" | "iq";

/** One direction of one peering, resolved for the hot path. */
export interface Direction {
  peering: string;
  name: DirectionName;
  from: SideConfig;
  to: SideConfig;
  rules: DirectionRules;
  fromDomains: ReadonlySet<string>;
  toDomains: ReadonlySet<string>;
}

export function directionsOf(p: PeeringConfig): { outbound: Direction; inbound: Direction } {
  const make = (name: DirectionName, from: SideConfig, to: SideConfig, rules: DirectionRules): Direction => ({
    peering: p.name,
    name,
    from,
    to,
    rules,
    fromDomains: new Set(from.domains),
    toDomains: new Set(to.domains),
  });
  return {
    outbound: make("outbound", p.local, p.remote, p.outbound),
    inbound: make("inbound", p.remote, p.local, p.inbound),
  };
}

export interface Route {
  kind: StanzaKind;
  /** The stanza's type attribute, with RFC 6120 defaults (message: normal, presence: available). */
  type: string;
  from: string;
  to: string;
  fromBare: string;
  fromDomain: string;
  toDomain: string;
  /** `from` and `to` parsed (frozen, @cordon/jid's memo): their parts without parsing them again. */
  fromJid: Jid;
  toJid: Jid;
}

export type RouteResult =
  | { ok: true; route: Route }
  | { ok: false; reason: "missing-address" | "foreign-source" | "loop" | "not-a-stanza" };

/** Classifies a stanza arriving for `direction`; refuses what cannot cross without a loop or a forged origin. */
export function routeOf(stanza: Element, direction: Direction): RouteResult {
  const kind = stanza.name;
  if (kind !== "message" && kind !== "presence" && kind !== "iq")
    return { ok: false, reason: "not-a-stanza" };
  const from = stanza.attrs.from;
  const to = stanza.attrs.to;
  const fromJid = from ? parseJid(from) : undefined;
  const toJid = to ? parseJid(to) : undefined;
  if (!from || !to || !fromJid || !toJid) return { ok: false, reason: "missing-address" };
  // The recipient must be on the far side: anything else would be re-emitted towards a domain the
  // relay itself claims there, and come back through it.
  if (!direction.toDomains.has(toJid.domain)) return { ok: false, reason: "loop" };
  if (!direction.fromDomains.has(fromJid.domain)) {
    return { ok: false, reason: direction.toDomains.has(fromJid.domain) ? "loop" : "foreign-source" };
  }
  const type = stanza.attrs.type ?? (kind === "message" ? "normal" : kind === "presence" ? "available" : "");
  const fromBare = bareJid(fromJid);
  return {
    ok: true,
    route: {
      kind,
      type,
      from,
      to,
      fromBare,
      fromDomain: fromJid.domain,
      toDomain: toJid.domain,
      fromJid,
      toJid,
    },
  };
}

/** Whether a peer domain may be reached: an explicit grant list, or any peer but a deny list. `*.d` matches subdomains of d. */
export function peerAllowed(rule: PeerRule, domain: string): boolean {
  const listed = rule.domains.some((d) => (d.startsWith("*.") ? domain.endsWith(d.slice(1)) : d === domain));
  return rule.kind === "grant" ? listed : !listed;
}

/** The far-side domain a direction's peer rule is about: the recipient's. */
export function peerDomain(route: Route): string {
  return route.toDomain;
}
