// The normalisation every JID key goes through (RFC 7622 §3.2-§3.4), so that one address has one
// spelling in the store, in notifications and in every component's maps:
//  - localpart (RFC 7622 §3.3.2, PRECIS UsernameCaseMapped, RFC 8265 §3.3.2): width mapping,
//    case mapping (toLowerCase), NFC;
//  - domainpart (RFC 7622 §3.2.2, UTS #46 mapping): the same, and a trailing dot removed (§3.2);
//  - resourcepart (RFC 7622 §3.4.2, OpaqueString): NFC only, its case is kept.
// Prosody 0.12 and ejabberd 23.01 key accounts by stringprep nodeprep (NFKC and case folding),
// which agrees with these rules on every JID PRECIS allows; ejabberd puts the JID into stanzas as
// the client wrote it (e.g. "rene\u0301@…" decomposed, or upper case), so a component must fold
// what it reads.

/** Fullwidth ASCII forms (U+FF01-U+FF5E) to their ASCII equivalents (RFC 8265 §3.3.2 rule 1). */
function widthMap(s: string): string {
  return /[\uff01-\uff5e]/u.test(s)
    ? s.replace(/[\uff01-\uff5e]/gu, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    : s;
}

/** A localpart as it is compared: width-mapped, lower case, NFC. */
export function foldLocalpart(local: string): string {
  return widthMap(local).toLowerCase().normalize("NFC");
}

/** A domainpart as it is compared: width-mapped, lower case, NFC, without a trailing dot. */
export function foldDomainpart(domain: string): string {
  const d = widthMap(domain).toLowerCase().normalize("NFC");
  return d.endsWith(".") ? d.slice(0, -1) : d;
}

/** A resourcepart as it is compared: NFC, case kept. */
export function foldResourcepart(resource: string): string {
  return resource.normalize("NFC");
}
