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
// The sessions of a message's recipient (the catalog's offer toward a user: the guard's
// recipient-location rule, client-location.ts recipientRefused) — the same module, the same gate:
//
//   <iq type='get' from='catalog.example.test' to='example.test' id='…'>
//     <sessions xmlns='urn:cordon:guard:0' jid='bob@example.test'/></iq>
//   → <sessions xmlns='urn:cordon:guard:0' jid='…'><session resource='desk' ip='10.1.0.4'/>…</sessions>
//     (none: the user has no session — a message is stored; at most MAX_TOLD_SESSIONS listed)
//   → resource-constraint (the user has more sessions than that), bad-request (not a user's bare
//     JID of this host), forbidden (the asker is not trusted), or no answer
//
// Anything but a result carrying one IP address (an error, a timeout, the module not loaded, an
// answer without a usable `ip`) is "not known": the caller fails closed (client-location.ts
// SessionLocations: the unknown location, where nothing labelled reaches or leaves the session).
import { isIP } from "node:net";
import { IqError, NS_GUARD, parseJid, xml, type CordonComponent, type Element } from "@cordon/component";

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

/** One session of a user as its server tells it: its resource and address (undefined: not told). */
export interface ToldSession {
  readonly resource: string;
  readonly ip: string | undefined;
}

/**
 * The sessions a message to `target` is decided for by the guard (its module lists them so): a bare
 * JID's, every session of the user (none: stored offline); a full JID's, that session — or, when
 * there is no such session, every session of the user (where the server routes such a message).
 * Undefined when they cannot be learnt: the caller fails closed.
 */
export type RecipientSessions = (target: string) => Promise<readonly ToldSession[] | undefined>;

/** How many sessions the module lists at most; a user with more: resource-constraint (not known). */
export const MAX_TOLD_SESSIONS = 64;
/** RFC 7622 §3.4: a resourcepart is at most 1023 bytes. */
const MAX_RESOURCE = 1023;

/** The recipient-sessions questions through `component`, to the recipient's server. */
export function askingServerSessions(
  component: CordonComponent,
  timeoutMs = SESSION_ADDRESS_TIMEOUT_MS,
): RecipientSessions {
  const ask = (name: "session" | "sessions", jid: string, domain: string) =>
    component.request(xml("iq", { type: "get", to: domain }, xml(name, { xmlns: NS_GUARD, jid })), timeoutMs);
  return async (target) => {
    const jid = parseJid(target);
    if (!jid?.local) return undefined;
    const bare = `${jid.local}@${jid.domain}`;
    try {
      if (jid.resource) {
        try {
          const one = await ask("session", `${bare}/${jid.resource}`, jid.domain);
          return [{ resource: jid.resource, ip: readSessionAddress(one) }];
        } catch (error) {
          // No such session: the server routes the message to the user's sessions (or stores it).
          if (!(error instanceof IqError) || error.condition !== "item-not-found") throw error;
        }
      }
      return readSessions(await ask("sessions", bare, jid.domain));
    } catch (error) {
      component.logger.debug({ err: (error as Error).message }, "the recipient's sessions are not known");
      return undefined;
    }
  };
}

/** The sessions an answer lists, or undefined when it is not a well-formed, bounded list. */
export function readSessions(answer: Element): ToldSession[] | undefined {
  const list = answer.getChild("sessions", NS_GUARD);
  if (!list) return undefined;
  const told: ToldSession[] = [];
  const seen = new Set<string>();
  for (const child of list.getChildElements()) {
    if (child.name !== "session") continue;
    const resource = child.attrs.resource;
    if (typeof resource !== "string" || resource === "" || resource.length > MAX_RESOURCE) return undefined;
    if (seen.has(resource) || told.length >= MAX_TOLD_SESSIONS) return undefined;
    seen.add(resource);
    const ip = child.attrs.ip;
    told.push({
      resource,
      ip: typeof ip === "string" && ip.length <= MAX_IP && isIP(ip) !== 0 ? ip : undefined,
    });
  }
  return told;
}
