// A session's address, which only its server knows (issue 17: the guard's client-location rule,
// client-location.ts, applied by a component that does not see the session's connection — the
// catalog to the session asking, the MUC to each occupant's session). Asked of the session's own
// server, whose guard module answers Cordon's trusted components (protocol: @cordon/guard
// protocol.ts, packages/guard/README.md "The session's address"):
//
//   <iq type='get' from='catalog.example.test' to='example.test' id='…'>
//     <session xmlns='urn:cordon:guard:0' jid='alice@example.test/phone'/></iq>
//   → <iq type='result'><session xmlns='urn:cordon:guard:0' jid='…' ip='10.9.0.7'/></iq>
//   → item-not-found (no such session), forbidden (the asker is not trusted), or no answer
//
// Anything but a result carrying one IP address (an error, a timeout, the module not loaded, an
// answer without a usable `ip`) is "not known": the caller fails closed (client-location.ts
// SessionLocations: the unknown location, where nothing labelled reaches or leaves the session).
import { isIP } from "node:net";
import { NS_GUARD, parseJid, xml, type CordonComponent, type Element } from "@cordon/component";

/** A session's address as its server tells it; undefined when it cannot be learnt. */
export type SessionAddress = (session: string) => Promise<string | undefined>;

/** The longest address accepted (an IPv6 address with a zone is far shorter): the guard's MAX_IP. */
const MAX_IP = 64;
/** How long the server may take to answer (default): the session's own server, in-process routing. */
export const SESSION_ADDRESS_TIMEOUT_MS = 2_000;

/** The session-address question through `component`, to the server of each session asked about. */
export function askingServer(
  component: CordonComponent,
  timeoutMs = SESSION_ADDRESS_TIMEOUT_MS,
): SessionAddress {
  return async (session) => {
    const jid = parseJid(session);
    if (!jid?.local || !jid.resource) return undefined;
    try {
      const answer = await component.request(
        xml("iq", { type: "get", to: jid.domain }, xml("session", { xmlns: NS_GUARD, jid: session })),
        timeoutMs,
      );
      return readSessionAddress(answer);
    } catch (error) {
      component.logger.debug({ err: (error as Error).message }, "the session's address is not known");
      return undefined;
    }
  };
}

/** The address in an answer: its `<session/>`'s `ip` when it is one IP address, else undefined. */
export function readSessionAddress(answer: Element): string | undefined {
  const ip = answer.getChild("session", NS_GUARD)?.attrs.ip;
  if (typeof ip !== "string" || ip.length > MAX_IP || isIP(ip) === 0) return undefined;
  return ip;
}
