// Bare JIDs and domains as store keys: normalised by the one JID normalisation (@cordon/jid,
// RFC 7622, folded as the servers' nodeprep: case folding, NFKC), then checked against what RFC 7622 forbids outright.
import { foldDomainpart, foldLocalpart } from "@cordon/jid";
import { InvalidJidError } from "./errors.js";

// RFC 7622 §3.3.1: the localpart must not contain these characters.
const LOCALPART_FORBIDDEN = /["&'/:<>@\s]/u;
// RFC 7622 §3.2 (domainpart = IDNA2008 or IP literal); we accept LDH labels, IDN U-labels and IP literals.
const DOMAIN_LABEL = /^(?!-)[\p{L}\p{N}_-]{1,63}(?<!-)$/u;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/u;
// RFC 7622 §3.1: each part is at most 1023 octets.
const MAX_PART_OCTETS = 1023;

function octets(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Normalises a domain (a component, peer or server domain). Throws InvalidJidError. */
export function normaliseDomain(input: string): string {
  const d = foldDomainpart(input);
  if (d.length === 0) throw new InvalidJidError(input, "empty domainpart");
  if (octets(d) > MAX_PART_OCTETS) throw new InvalidJidError(input, "domainpart too long");
  if (IPV6_LITERAL.test(d)) return d;
  for (const label of d.split(".")) {
    if (!DOMAIN_LABEL.test(label))
      throw new InvalidJidError(input, `bad domain label ${JSON.stringify(label)}`);
  }
  return d;
}

/**
 * Normalises a bare JID (`localpart@domain` or just `domain`). A resource is rejected: the store is
 * keyed by bare JIDs only (RFC 6120 §1.4 "bare JID").
 */
export function normaliseBareJid(input: string): string {
  if (typeof input !== "string") throw new InvalidJidError(String(input), "not a string");
  if (input.includes("/")) throw new InvalidJidError(input, "a resource is not allowed, use the bare JID");
  const at = input.indexOf("@");
  if (at === -1) return normaliseDomain(input);
  if (input.indexOf("@", at + 1) !== -1) throw new InvalidJidError(input, "more than one @");
  const local = foldLocalpart(input.slice(0, at));
  if (local.length === 0) throw new InvalidJidError(input, "empty localpart");
  if (octets(local) > MAX_PART_OCTETS) throw new InvalidJidError(input, "localpart too long");
  if (LOCALPART_FORBIDDEN.test(local)) throw new InvalidJidError(input, "forbidden character in localpart");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/u.test(local))
    throw new InvalidJidError(input, "control character in localpart");
  return `${local}@${normaliseDomain(input.slice(at + 1))}`;
}

/** The domain of a normalised bare JID. */
export function domainOf(bareJid: string): string {
  const at = bareJid.indexOf("@");
  return at === -1 ? bareJid : bareJid.slice(at + 1);
}

/** The localpart of a normalised bare JID ("" for a domain JID). */
export function localpartOf(bareJid: string): string {
  const at = bareJid.indexOf("@");
  return at === -1 ? "" : bareJid.slice(0, at);
}
