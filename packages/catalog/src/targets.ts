// What the TARGET of `<catalog to='TARGET'/>` is (XEP-0258 §"Label Catalog Discovery": the
// catalog "for a particular JID"): a room of one of our MUC domains, a user of a domain we serve,
// one of our own services (a served domain, a MUC domain, this component), or a remote entity
// (any other domain: limited by that peer's clearance).
import { parseJid } from "@cordon/component";

export type CatalogTarget =
  /** A served domain, a MUC service domain or the catalog component: the service catalog. */
  | { kind: "server"; jid: string; domain: string }
  /** A room (an occupant JID is taken as its room). */
  | { kind: "room"; jid: string; service: string }
  /** A user of a served domain (bare JID). */
  | { kind: "user"; jid: string; domain: string }
  /** A user or a server on another domain (bare JID). */
  | { kind: "remote"; jid: string; domain: string };

export interface TargetContext {
  /** User domains we serve (whose servers delegate to us). */
  readonly served: readonly string[];
  /** MUC component domains whose rooms are in the store. */
  readonly muc: readonly string[];
  /** Our own component domain. */
  readonly component: string;
}

/** Resolves a JID; undefined when it is not a JID at all. */
export function resolveTarget(text: string, context: TargetContext): CatalogTarget | undefined {
  // Folded as the store keys JIDs (@cordon/jid, RFC 7622): one user, one spelling.
  const jid = parseJid(text);
  if (!jid) return undefined;
  const bare = jid.local ? `${jid.local}@${jid.domain}` : jid.domain;
  if (context.muc.includes(jid.domain)) {
    return jid.local
      ? { kind: "room", jid: bare, service: jid.domain }
      : { kind: "server", jid: bare, domain: jid.domain };
  }
  if (context.served.includes(jid.domain) || jid.domain === context.component) {
    return jid.local && jid.domain !== context.component
      ? { kind: "user", jid: bare, domain: jid.domain }
      : { kind: "server", jid: jid.domain, domain: jid.domain };
  }
  return { kind: "remote", jid: bare, domain: jid.domain };
}
