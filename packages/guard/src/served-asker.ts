// Who may speak the guard protocol to the guard (protocol.ts): a served server itself, from its own
// domain (its module sends as the host: no local part, no resource). Every guard IQ — <check/>,
// <access/>, the served and latency reports — is refused `forbidden` from anyone else (a user, a
// remote server, a component), before anything of its payload is read (RFC 6120 §8.3.3.6).
import { parseJid, stanzaError } from "@cordon/component";

/** The served domain `from` is, or throws `forbidden` when it is no served server's own domain. */
export function servedAsker(from: string | undefined, served: readonly string[]): string {
  const asker = parseJid(from ?? "");
  if (!asker || asker.local || asker.resource || !served.includes(asker.domain))
    throw stanzaError("forbidden", "cancel");
  return asker.domain;
}
