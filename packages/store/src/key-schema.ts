// The Redis key schema (documented in the package README). Every key starts with a configurable
// prefix (default "cordon:"). JIDs and domains in keys are normalised (lowercase) bare JIDs.
//
//   {p}user:{jid}            hash   field "*" (any policy) or a policy OID -> JSON RawClearance
//   {p}users                 set    bare JIDs that have a {p}user:{jid} hash (admin listing)
//   {p}services              hash   field component domain -> JSON RawClearance
//   {p}peers                 hash   field "{direction}:{domain}" -> JSON RawClearance
//   {p}room:{jid}            hash   field "record" -> JSON {config,label?,clearance?,defaultLabel?,persistent}
//   {p}room:{jid}:aff        hash   field bare JID -> owner|admin|member|outcast
//   {p}room:{jid}:history    list   opaque entries, oldest first, capped (RPUSH + LTRIM)
//   {p}rooms                 set    room JIDs (listing)
//   {p}catalogs              hash   field "domain:{d}" | "room:{jid}" | "personal:{jid}" -> opaque string
//   {p}events                pub/sub channel, one JSON StoreEvent per change
import type { CatalogScope, PeerDirection } from "./types.js";

export const DEFAULT_PREFIX = "cordon:";
/** Hash field (and in-memory key) of a user's policy-independent clearance. */
export const DEFAULT_POLICY_FIELD = "*";

export function catalogKeyPart(scope: CatalogScope): string {
  switch (scope.kind) {
    case "domain":
      return `domain:${scope.domain}`;
    case "room":
      return `room:${scope.jid}`;
    case "personal":
      return `personal:${scope.jid}`;
  }
}

export class KeySchema {
  readonly prefix: string;
  constructor(prefix: string = DEFAULT_PREFIX) {
    this.prefix = prefix;
  }
  user(jid: string): string {
    return `${this.prefix}user:${jid}`;
  }
  get users(): string {
    return `${this.prefix}users`;
  }
  get services(): string {
    return `${this.prefix}services`;
  }
  get peers(): string {
    return `${this.prefix}peers`;
  }
  peerField(domain: string, direction: PeerDirection): string {
    return `${direction}:${domain}`;
  }
  room(jid: string): string {
    return `${this.prefix}room:${jid}`;
  }
  roomAffiliations(jid: string): string {
    return `${this.prefix}room:${jid}:aff`;
  }
  roomHistory(jid: string): string {
    return `${this.prefix}room:${jid}:history`;
  }
  get rooms(): string {
    return `${this.prefix}rooms`;
  }
  get catalogs(): string {
    return `${this.prefix}catalogs`;
  }
  get events(): string {
    return `${this.prefix}events`;
  }
}
