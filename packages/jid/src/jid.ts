// JID shapes (RFC 7622 §3.1: [localpart@]domainpart[/resourcepart]), each part normalised by
// fold.ts. Lenient: undefined for what is not a JID at all; the store adds the stricter checks of
// a key (forbidden characters, domain labels, lengths).
import { foldDomainpart, foldLocalpart, foldResourcepart } from "./fold.js";

export interface Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
}

/** RFC 7622 §3.1: at most 1023 octets per part, so 3071 characters is more than any JID. */
const MAX_JID_LENGTH = 3071;

export function parseJid(text: string): Jid | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_JID_LENGTH) return undefined;
  // RFC 7622 §3.1: the resource is everything after the first "/", the localpart before the first "@".
  const slash = text.indexOf("/");
  const bare = slash >= 0 ? text.slice(0, slash) : text;
  const resource = slash >= 0 ? text.slice(slash + 1) : "";
  if (slash >= 0 && resource.length === 0) return undefined;
  const at = bare.indexOf("@");
  // Checked once folded: a localpart of characters mapped to nothing (a soft hyphen) is empty, and
  // "\u00ad@example.test" must not become the domain JID example.test.
  const local = at >= 0 ? foldLocalpart(bare.slice(0, at)) : "";
  const domain = foldDomainpart(at >= 0 ? bare.slice(at + 1) : bare);
  if (at >= 0 && (local.length === 0 || /[@/]/u.test(local))) return undefined;
  // Fullwidth "＠" and "／" fold to "@" and "/": a separator that appears only once folded is refused.
  if (domain.length === 0 || /[@/\s]/u.test(domain)) return undefined;
  return { local, domain, resource: foldResourcepart(resource) };
}

export function bareJid(jid: Jid): string {
  return jid.local ? `${jid.local}@${jid.domain}` : jid.domain;
}

export function fullJid(jid: Jid): string {
  const bare = bareJid(jid);
  return jid.resource ? `${bare}/${jid.resource}` : bare;
}

/** The bare form of a JID string, or undefined when it is not a JID. */
export function toBare(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const jid = parseJid(text);
  return jid ? bareJid(jid) : undefined;
}
