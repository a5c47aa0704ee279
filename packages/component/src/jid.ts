// Minimal JID handling (RFC 7622 shapes: [local@]domain[/resource]); no stringprep, only the
// case folding of local and domain parts that routing decisions need.

export interface Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
}

export function parseJid(text: string): Jid | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > 3071) return undefined;
  const slash = text.indexOf("/");
  const bare = slash >= 0 ? text.slice(0, slash) : text;
  const resource = slash >= 0 ? text.slice(slash + 1) : "";
  if (slash >= 0 && resource.length === 0) return undefined;
  const at = bare.indexOf("@");
  const local = at >= 0 ? bare.slice(0, at) : "";
  const domain = at >= 0 ? bare.slice(at + 1) : bare;
  if (at >= 0 && local.length === 0) return undefined;
  if (domain.length === 0 || domain.includes("@") || /\s/.test(domain)) return undefined;
  return { local: local.toLowerCase(), domain: domain.toLowerCase().replace(/\.$/, ""), resource };
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
