// XEP-0355 Namespace Delegation (https://xmpp.org/extensions/xep-0355.html), managing-entity side:
// the home server forwards IQs of a delegated namespace to us inside
// <iq type='set'><delegation><forwarded xmlns='urn:xmpp:forward:0'><iq/></forwarded></delegation></iq>.
// We unwrap the inner request, route it to the same handler a direct request reaches, and wrap the
// reply (docs/delegation.md §2–3 for what Prosody 0.12 mod_delegation and ejabberd 23.01 accept).
import { xml, isElement, type Element } from "./xml.js";
import type { CordonComponent } from "./component.js";
import type { IqHandlers, IqOutcome, IqRequest } from "./iq-router.js";
import { discoInfoElement } from "./disco.js";
import { NS_CLIENT, NS_DISCO_INFO, NS_FORWARD } from "./namespaces.js";
import { errorElement, type StanzaErrorSpec } from "./stanza-error.js";
import { parseJid, bareJid } from "@cordon/jid";
import { CordonComponentError } from "./errors.js";
import { StanzaErrorException } from "./stanza-error-exception.js";

/** ejabberd 23.01 speaks :1, Prosody's community mod_delegation :2 (docs/delegation.md §2). */
export const NS_DELEGATION_1 = "urn:xmpp:delegation:1";
export const NS_DELEGATION_2 = "urn:xmpp:delegation:2";
export const DELEGATION_NAMESPACES: readonly string[] = [NS_DELEGATION_1, NS_DELEGATION_2];

export interface DelegateOptions {
  /**
   * Features the server merges into its own disco#info for this namespace: answered for the nodes
   * `urn:xmpp:delegation:{1,2}::NS` (XEP-0355 §6 "Disco#info nesting").
   */
  features: readonly string[];
  /** Features for the `:bare:` nodes (requests to a user's bare JID). Default: `features`. */
  bareFeatures?: readonly string[];
  /**
   * The server domains allowed to delegate to us: a delegation whose outer `from` is not one of
   * these is refused with `forbidden`. Accumulates over calls for the same component.
   */
  servers: readonly string[];
}

/** Bad use of delegate() (e.g. no server domains). */
export class DelegationConfigError extends CordonComponentError {
  constructor(message: string) {
    super("CORDON_DELEGATION_CONFIG", message);
  }
}

interface DelegatedNamespace {
  features: readonly string[];
  bareFeatures: readonly string[];
}

interface DelegationState {
  servers: Set<string>;
  namespaces: Map<string, DelegatedNamespace>;
  route: (stanza: Element) => Promise<IqOutcome>;
}

const states = new WeakMap<CordonComponent, DelegationState>();
/** Inner requests that came through a delegation, with the server that forwarded them. */
const delegatedRequests = new WeakMap<Element, string>();

/**
 * Serves `namespace` both directly (IQs addressed to the component) and through XEP-0355
 * delegation by the servers of `options.servers`: both reach `handlers` with the same
 * IqRequest shape, the delegated one carrying the real requester (`from` = the user's full JID)
 * and the original `to` (the server domain or the user's bare JID). Answers the server's
 * disco#info for the delegation nodes, which ejabberd requires before it delegates anything.
 */
export function delegate(
  component: CordonComponent,
  namespace: string,
  handlers: IqHandlers,
  options: DelegateOptions,
): void {
  if (options.servers.length === 0)
    throw new DelegationConfigError(
      `delegate(${namespace}): no server domain may delegate to ${component.domain}`,
    );
  const state = stateOf(component);
  for (const server of options.servers) {
    const jid = parseJid(server);
    if (!jid || jid.local || jid.resource)
      throw new DelegationConfigError(`delegate(${namespace}): "${server}" is not a domain`);
    state.servers.add(jid.domain);
  }
  state.namespaces.set(namespace, {
    features: [...options.features],
    bareFeatures: [...(options.bareFeatures ?? options.features)],
  });
  component.handleIq(namespace, handlers);
}

/** The server that delegated this request, or undefined when it was addressed to us directly. */
export function delegatedBy(request: IqRequest | Element): string | undefined {
  const stanza = "payload" in request && "stanza" in request ? request.stanza : request;
  return delegatedRequests.get(stanza);
}

/** The namespace a delegation disco node names, e.g. `urn:xmpp:delegation:2::urn:x` → { ns: "urn:x", bare: false }. */
export function parseDelegationNode(
  node: string,
): { version: string; namespace: string; bare: boolean } | undefined {
  for (const version of DELEGATION_NAMESPACES) {
    if (!node.startsWith(`${version}:`)) continue;
    const rest = node.slice(version.length + 1);
    if (rest.startsWith(":") && rest.length > 1) return { version, namespace: rest.slice(1), bare: false };
    if (rest.startsWith("bare:") && rest.length > 5) return { version, namespace: rest.slice(5), bare: true };
  }
  return undefined;
}

function stateOf(component: CordonComponent): DelegationState {
  const existing = states.get(component);
  if (existing) return existing;
  const router = component.iq;
  const route = router.route.bind(router);
  const state: DelegationState = { servers: new Set(), namespaces: new Map(), route };
  states.set(component, state);
  // The delegation nodes are answered before the component's own disco resolver sees them, so a
  // component cannot forget them (ejabberd silently skips the delegation on an error reply).
  router.route = async (stanza: Element): Promise<IqOutcome> => {
    const answer = delegationDisco(state, stanza);
    return answer ?? route(stanza);
  };
  for (const ns of DELEGATION_NAMESPACES) {
    component.handleIq(ns, { set: (request) => unwrap(component, state, ns, request) }, "delegation");
  }
  return state;
}

function delegationDisco(state: DelegationState, stanza: Element): IqOutcome | undefined {
  if (stanza.attrs.type !== "get") return undefined;
  const elements = stanza.children.filter(isElement);
  const query = elements[0];
  if (elements.length !== 1 || !query || query.name !== "query" || query.attrs.xmlns !== NS_DISCO_INFO)
    return undefined;
  const node = query.attrs.node;
  const parsed = node ? parseDelegationNode(node) : undefined;
  if (!node || !parsed) return undefined;
  const delegated = state.namespaces.get(parsed.namespace);
  if (!delegated) return { kind: "error", spec: { condition: "item-not-found" } };
  return {
    kind: "result",
    payload: discoInfoElement(
      { identities: [], features: [...(parsed.bare ? delegated.bareFeatures : delegated.features)] },
      node,
    ),
  };
}

/** XEP-0355 §5 (https://xmpp.org/extensions/xep-0355.html#process): unwrap, route, wrap the reply. */
async function unwrap(
  component: CordonComponent,
  state: DelegationState,
  ns: string,
  outer: IqRequest,
): Promise<Element> {
  const server = parseJid(outer.from);
  if (!server || server.local || server.resource || !state.servers.has(server.domain)) {
    component.logger.warn(
      { from: outer.from },
      "refused a delegated request from an entity that is not a delegating server",
    );
    throw refused({ condition: "forbidden", type: "cancel", text: "not a delegating server" });
  }
  const forwarded = outer.payload.getChild("forwarded", NS_FORWARD);
  const inners = forwarded?.getChildElements() ?? [];
  const inner = inners[0];
  if (!forwarded || inners.length !== 1 || !inner || inner.name !== "iq") {
    throw refused({ condition: "bad-request", text: "delegation must forward exactly one iq" });
  }
  const type = inner.attrs.type;
  const requester = inner.attrs.from ? parseJid(inner.attrs.from) : undefined;
  if ((type !== "get" && type !== "set") || !requester || !inner.attrs.id) {
    throw refused({ condition: "bad-request", text: "forwarded iq must be a get or set with from and id" });
  }
  // XEP-0355 §5: the server forwards IQs addressed to itself or to one of its users' bare JIDs.
  const target = inner.attrs.to ? parseJid(inner.attrs.to) : undefined;
  if (inner.attrs.to !== undefined && (!target || target.domain !== server.domain || target.resource)) {
    throw refused({
      condition: "bad-request",
      text: "forwarded iq is not addressed to the delegating server",
    });
  }
  const payloads = inner.children.filter(isElement);
  const payloadNs = payloads.length === 1 ? payloads[0]?.attrs.xmlns : undefined;
  let outcome: IqOutcome;
  if (!payloadNs || !state.namespaces.has(payloadNs)) {
    outcome = { kind: "error", spec: { condition: "service-unavailable" } };
  } else {
    // Route a copy whose `to` names the server when the client left it out; the reply echoes the original.
    const request = xml(
      "iq",
      { type, id: inner.attrs.id, from: inner.attrs.from, to: inner.attrs.to ?? server.domain },
      ...payloads,
    );
    delegatedRequests.set(request, server.domain);
    outcome = await state.route(request);
    if (outcome.kind === "error" && outcome.cause) {
      component.logger.error({ err: outcome.cause, ns: payloadNs }, "delegated iq handler failed");
    }
  }
  component.logger.debug(
    { ns: payloadNs, server: server.domain, from: bareJid(requester), outcome: outcome.kind },
    "delegated iq",
  );
  return xml(
    "delegation",
    { xmlns: ns },
    xml("forwarded", { xmlns: NS_FORWARD }, wrappedReply(inner, outcome)),
  );
}

/**
 * The inner reply: `xmlns='jabber:client'` (Prosody drops it otherwise), the same id, `from` = the
 * original `to` exactly (ejabberd checks it), `to` = the original sender; an error carries only
 * `<error/>`, never the request's payload.
 */
function wrappedReply(inner: Element, outcome: IqOutcome): Element {
  const attrs = {
    xmlns: NS_CLIENT,
    type: outcome.kind === "result" ? "result" : "error",
    id: inner.attrs.id,
    from: inner.attrs.to,
    to: inner.attrs.from,
  };
  if (outcome.kind === "result") return xml("iq", attrs, outcome.payload ?? null);
  return xml("iq", attrs, errorElement(outcome.spec));
}

/** A refusal of the outer (server-to-component) delegation IQ itself. */
function refused(spec: StanzaErrorSpec): StanzaErrorException {
  return new StanzaErrorException(spec);
}
