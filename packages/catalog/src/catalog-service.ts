// The catalog component: answers XEP-0258 catalog requests (https://xmpp.org/extensions/xep-0258.html#label-catalog)
// that the home server delegates to it by XEP-0355 (https://xmpp.org/extensions/xep-0355.html), and
// the same requests addressed to it directly. Per (requester, target): the labels of the configured
// catalogs that are valid, granted by the requester's clearance and within the target's limit.
import {
  createComponent,
  delegate,
  xml,
  delegatedBy,
  parseJid,
  bareJid,
  toBare,
  foldDomainpart,
  stanzaError,
  StanzaErrorException,
  NS_DISCO_ITEMS,
  NS_SEC_LABEL,
  NS_SEC_LABEL_CATALOG,
  type ComponentOptions,
  type CordonComponent,
  type Element,
  type IqRequest,
  elementBytes,
  PendingBudget,
  type BufferUse,
  type PendingLimits,
} from "@cordon/component";
import { internalized, LabelCache, type Clearance, type Label, type PolicyRegistry } from "@cordon/policy";
import {
  ClearanceReader,
  grantingClearance,
  NO_CLEARANCE,
  oneToOne,
  ANYWHERE,
  askingServer,
  askingServerSessions,
  recipientRefused,
  namedSession,
  SessionLocations,
  Translations,
  type ClearanceState,
  type ClientLocation,
  type ClientLocationOptions,
  type RecipientSessions,
  type SessionAddress,
} from "@cordon/rules";
import {
  InvalidJidError,
  normaliseBareJid,
  type CatalogScope,
  type ClearanceStore,
  type PersonalCatalogLookup,
  type RawValue,
  type RoomRecord,
  type UserClearanceSource,
} from "@cordon/store";
import {
  buildCatalog,
  clearanceGate,
  clearancesGate,
  emptyCatalog,
  roomCatalog,
  type Catalog,
  type LabelGate,
  type RoomLabels,
} from "./catalog.js";
import { parseCatalogJson, type CatalogEntry, type CatalogSpec } from "./catalog-spec.js";
import { catalogElement, CATALOG_NAMESPACES } from "./catalog-xml.js";
import { resolveTarget, type CatalogTarget } from "./targets.js";
import { CatalogCache } from "./catalog-cache.js";
import { CatalogOptionsError } from "./errors.js";
import { liveRoomCatalog, RoomNotStored } from "./live-room.js";
import { GuardDefaultLabel, unlabelledGetsThrough } from "./unlabelled.js";

/** Room config key for the room's `restrict` setting (boolean, default true). */
export const ROOM_RESTRICT_KEY = "catalogRestrict";

export interface CatalogServiceOptions extends ComponentOptions {
  /** User domains we serve: their servers delegate catalog requests to us. */
  served: readonly string[];
  /** MUC component domains: `room@domain` targets are looked up in the store. */
  muc?: readonly string[];
  registry: PolicyRegistry;
  /** Rooms, peer and service clearances, catalogs, notifications. */
  store: ClearanceStore;
  /** User clearances (e.g. a ClearanceResolver over the store and LDAP); default the store. */
  users?: UserClearanceSource;
  /** Personal catalogs from the directory (an LdapDirectory), appended to the store's personal catalog. */
  personalCatalogs?: PersonalCatalogSource;
  /** Configured catalogs per domain (a served domain, a MUC domain); store records take precedence. */
  catalogs?: ReadonlyMap<string, CatalogSpec>;
  /**
   * The guard's default label (components.guard.defaultLabel: the label an unlabelled one-to-one
   * message takes). A user target's catalog offers its "no label" item only when the guard would
   * let an unlabelled message through from the requester to that user (unlabelled.ts); without
   * it (no guard, or a guard without a default label) never. Re-read at each policy reload.
   */
  guardDefaultLabel?: Label;
  /**
   * The guard's client locations (components.guard.locations / otherLocations; @cordon/rules
   * client-location.ts). A user target's catalog then offers only the labels the requesting
   * session's location grants and the target's sessions may receive (recipientRefused; a stored
   * room's, only what the requesting session's location grants) (@cordon/rules client-location.ts SessionLocations): its address is
   * asked of its server (@cordon/rules session-address.ts). None, or no ranges: no question, no
   * location rule. Re-read at each
   * policy reload.
   */
  guardLocations?: ClientLocationOptions;
  /** How a session's address is learnt; default: asked of its server through this component. */
  sessionAddress?: SessionAddress;
  /**
   * How a user target's sessions (each with its address) are learnt — the guard's
   * recipient-location rule (@cordon/rules client-location.ts recipientRefused): default, asked
   * of the target's server through this component (`<sessions/>`, or `<session/>` for a full JID;
   * session-address.ts). Asked only when locations are configured; not learnt within the timeout:
   * an empty catalog (fail closed).
   */
  recipientSessions?: RecipientSessions;
  /** How long the server may take to tell a session's address (default 2 s); then: unknown location. */
  sessionAddressTimeoutMs?: number;
  /** Accept requests from users of other servers (s2s, or `<catalog from>`); default false. */
  remoteRequests?: boolean;
  /** Name in the component's disco#info identity. */
  name?: string;
  /**
   * Bytes the cache of computed catalogs may hold (default 32 MiB; catalog-cache.ts): keys, catalogs
   * with their labels, dependencies and serialised forms, the least recently used first out.
   */
  cacheMaxBytes?: number;
  /** How long a computed catalog may be served from the cache without a change notification (default 60 s). */
  cacheMaxAgeMs?: number;
  /**
   * Catalog requests waiting for their answer (a clearance from Redis or LDAP), per requester and in
   * total (@cordon/component PendingBudget; defaults 50 / 2 MiB per requester, 2,000 / 32 MiB in all):
   * past a limit a request is refused resource-constraint (wait) at once.
   */
  pending?: PendingLimits;
  /**
   * How long a room the store does not hold (a temporary room) may take to answer its catalog
   * (live-room.ts; default 5 s): past it, internal-server-error (wait).
   */
  liveRoomTimeoutMs?: number;
  /** Operator metrics: each catalog request answered ("grant") or refused with a stanza error ("deny", reason = condition). */
  onDecision?: (outcome: "grant" | "deny", reason: string) => void;
  /** The audit log (issue 16 item 9): each request answered or refused, who asked for which target. */
  onAudit?: (event: CatalogAuditEvent) => void;
}

/** One catalog decision, for the audit log: never a label's content, the number of items offered. */
export interface CatalogAuditEvent {
  granted: boolean;
  /** "answered", or the stanza error's condition. */
  reason: string;
  /** The requester as judged (a bare JID, or a peer domain). */
  actor: string;
  /** The target's bare JID, folded (absent when it is not a JID). */
  target?: string;
  remote: boolean;
  items?: number;
}

/** Where personal catalog labels come from besides the store (the directory). */
export interface PersonalCatalogSource {
  getPersonalCatalog(jid: string): Promise<PersonalCatalogLookup>;
}

/** Who asks, on behalf of which home server, for which target. */
export interface CatalogQuery {
  /** Bare JID of the requester. */
  requester: string;
  /** The server domain the request came through (or the requester's, for direct requests). */
  home: string;
  /** The target as named in `<catalog to>`. */
  target: string;
  /** A user of another server: its clearance is the peer's inbound clearance. */
  remote?: boolean;
  /**
   * The requesting session's full JID (a local user's), whose location the guard's
   * client-location rule judges; absent (a server asking on a user's behalf, an operator's query)
   * with locations configured: the unknown location — nothing labelled toward a user.
   */
  session?: string;
}

export interface CatalogService {
  readonly component: CordonComponent;
  readonly cache: CatalogCache;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The catalog for a query; throws a StanzaErrorException (item-not-found, forbidden...) to refuse. */
  catalogFor(query: CatalogQuery): Promise<Catalog>;
  /** The `<catalog/>` element answering a query, in `namespace`. */
  answer(query: CatalogQuery, namespace?: string): Promise<Element>;
  /** What the requests waiting for an answer hold now, and the cache of computed catalogs. */
  memory(): BufferUse[];
}

/**
 * A user target's sessions as the recipient-location rule sees them, reduced to what decides: the
 * session the target names (as resource "", the only one listed), else one entry per location of
 * the user's sessions; `key` is what decides (the locations' keys, never an address).
 */
interface Recipients {
  readonly resource: string | undefined;
  readonly sessions: readonly { readonly resource: string; readonly location: ClientLocation }[];
  readonly key: string;
}
/** No recipient rule (no locations configured, or not a user target). */
const NO_RECIPIENT_RULE: Recipients = { resource: undefined, sessions: [], key: "" };

interface Computed {
  catalog: Catalog;
  deps: string[];
  cacheable: boolean;
}

/** Features the home server advertises for us (docs/delegation.md §4): clients show labels only with sec-label:0. */
export const DELEGATED_FEATURES: readonly string[] = [NS_SEC_LABEL, NS_SEC_LABEL_CATALOG];

/** A deep copy (ltx elements from @xmpp/xml have no clone()): a reply may be re-parented by the router. */
function copyElement(el: Element): Element {
  return xml(
    el.name,
    { ...el.attrs },
    ...el.children.map((c) => (typeof c === "string" ? c : copyElement(c))),
  );
}

export function createCatalogService(options: CatalogServiceOptions): CatalogService {
  const served = options.served.map(foldDomainpart);
  const muc = (options.muc ?? []).map(foldDomainpart);
  if (served.length === 0)
    throw new CatalogOptionsError("the catalog service needs at least one served domain");
  const overlap = served.find((d) => muc.includes(d) || d === foldDomainpart(options.domain));
  if (overlap)
    throw new CatalogOptionsError(`domain ${overlap} cannot be both served and a MUC/component domain`);
  const { registry, store } = options;
  const users = options.users ?? store;
  const configured = options.catalogs ?? new Map<string, CatalogSpec>();
  const component = createComponent(options);
  // Nothing is decided before the changes published until it arrived are heard (a pause: @cordon/store notification-barrier.ts).
  component.holdIncoming(() => store.notificationsHeard?.());
  const logger = component.logger;
  const cache = new CatalogCache(options.cacheMaxBytes, options.cacheMaxAgeMs);
  const context = { served, muc, component: component.domain };
  // Subscribed before the catalog cache, so a notification has dropped the reader's answers when
  // the cache's invalidation lets a new catalog be computed.
  const clearances = new ClearanceReader({
    registry,
    store,
    users,
    onUnreadable: (subject, reason) =>
      logger.warn({ subject, reason }, "unusable clearance: treated as unknown"),
  });
  const unsubscribers = [store.subscribe((event) => cache.invalidate(event)), () => clearances.close()];
  if (users !== store) unsubscribers.push(users.subscribe((event) => cache.invalidate(event)));

  const translations = new Translations(registry);
  const guardDefault = new GuardDefaultLabel(options.guardDefaultLabel, registry, (reason) =>
    logger.warn({ reason }, "the guard's default label does not read under the new policies"),
  );
  unsubscribers.push(() => guardDefault.close());
  // The guard's client-location rule: the requesting session's location and the target's sessions'.
  const requesterLocations = new SessionLocations(options.guardLocations, registry, (what, reason) =>
    logger.warn({ what, reason }, "a client location's clearance does not read under the new policies"),
  );
  unsubscribers.push(() => requesterLocations.close());
  const sessionAddress = options.sessionAddress ?? askingServer(component, options.sessionAddressTimeoutMs);
  const recipientSessions =
    options.recipientSessions ?? askingServerSessions(component, options.sessionAddressTimeoutMs);

  /**
   * Where the sessions a message to `target` (a user of a served domain, as written) would be
   * decided for are; undefined when they cannot be learnt. Asked only when the rule applies.
   */
  async function recipientsOf(target: string): Promise<Recipients | undefined> {
    if (!requesterLocations.active) return NO_RECIPIENT_RULE;
    const told = await recipientSessions(target);
    if (!told) return undefined;
    const resource = parseJid(target)?.resource || undefined;
    const sessions = told.map((s) => ({ resource: s.resource, location: requesterLocations.at(s.ip) }));
    // What decides (recipientRefused): the named session's location when there is one — found as
    // the rule finds it (namedSession: as written, else as the server prepares resources) — else
    // the set of the sessions' locations (none: stored offline). Only that is kept while the
    // request waits (review adv17e: 64 resources of up to 1,023 characters each, per request).
    const named = resource === undefined ? undefined : namedSession(sessions, resource);
    if (named)
      return {
        resource: "",
        sessions: [{ resource: "", location: named.location }],
        key: `n:${named.location.key}`,
      };
    const byKey = new Map(sessions.map((s) => [s.location.key, { resource: "", location: s.location }]));
    return {
      resource: undefined,
      sessions: [...byKey.values()],
      key: `a:${[...byKey.keys()].sort().join(",")}`,
    };
  }
  // Labels read from the store (rooms, personal catalogs): parsed once, in the one byte-bounded label cache.
  const storedLabels = new LabelCache(registry);

  function parseRawLabel(raw: RawValue, what: string): Label | undefined {
    try {
      return storedLabels.get(raw.data);
    } catch (error) {
      logger.warn({ what, err: (error as Error).message }, "unusable label in the store");
      return undefined;
    }
  }

  /** A user's clearance states for each policy the candidate labels use. */
  async function userStates(jid: string, policies: readonly string[]): Promise<Map<string, ClearanceState>> {
    const byPolicy = new Map<string, ClearanceState>();
    for (const policy of policies) byPolicy.set(policy, await clearances.user(jid, policy));
    return byPolicy;
  }

  /** A user's clearances for each policy the candidate labels use. */
  async function userGate(
    jid: string,
    policies: readonly string[],
  ): Promise<{ gate: LabelGate; unknown: boolean }> {
    const byPolicy = new Map<string, Clearance>();
    let unknown = false;
    for (const policy of policies) {
      const state = await clearances.user(jid, policy);
      if (state.status === "unknown") unknown = true;
      if (state.status === "known") byPolicy.set(policy, state.clearance);
    }
    return { gate: clearancesGate((policy) => byPolicy.get(policy)), unknown };
  }

  async function domainSpec(domain: string): Promise<CatalogSpec | undefined> {
    return (await storedSpec({ kind: "domain", domain })) ?? configured.get(domain);
  }

  async function storedSpec(scope: CatalogScope): Promise<CatalogSpec | undefined> {
    const text = await store.getCatalog(scope);
    if (text === undefined) return undefined;
    const where =
      scope.kind === "domain"
        ? `store catalog of ${scope.domain}`
        : `store ${scope.kind} catalog of ${scope.jid}`;
    try {
      return parseCatalogJson(text, registry, where);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "ignoring an unusable catalog record");
      return undefined;
    }
  }

  /** The requester's personal catalog: the store record, then the directory's labels. */
  async function personalEntries(
    jid: string,
  ): Promise<{ entries: CatalogEntry[] | undefined; complete: boolean }> {
    const entries = [...((await storedSpec({ kind: "personal", jid }))?.items ?? [])];
    let complete = true;
    if (options.personalCatalogs) {
      const lookup = await options.personalCatalogs.getPersonalCatalog(jid);
      if (lookup.status === "unknown") complete = false;
      if (lookup.status === "known") {
        for (const raw of lookup.labels) {
          const label = parseRawLabel(raw, `personal catalog label of ${jid}`);
          if (label) entries.push({ label });
        }
      }
    }
    return { entries: entries.length > 0 ? entries : undefined, complete };
  }

  /** Whether a catalog built from these could hold a "no label" item (non-restrictive, one listed). */
  function offersNoLabel(
    spec: CatalogSpec | undefined,
    personal: readonly CatalogEntry[] | undefined,
  ): boolean {
    if (spec?.restrict ?? true) return false;
    return [...(spec?.items ?? []), ...(personal ?? [])].some((entry) => !entry.label);
  }

  function policiesOf(...lists: (readonly CatalogEntry[] | undefined)[]): string[] {
    const ids = new Set<string>();
    for (const list of lists) for (const entry of list ?? []) if (entry.label) ids.add(entry.label.policy.id);
    return [...ids];
  }

  async function compute(
    query: CatalogQuery,
    target: CatalogTarget,
    location: ClientLocation,
    recipients: Recipients | undefined,
  ): Promise<Computed> {
    const deps: string[] = [];
    const personalLookup = query.remote ? undefined : await personalEntries(query.requester);
    const personal = personalLookup?.entries;
    let spec: CatalogSpec | undefined;
    let room: RoomRecord | undefined;
    if (target.kind === "room") {
      deps.push(`room:${target.jid}`);
      room = await store.getRoom(target.jid);
      // Not stored: a temporary room, or none — answer() asks the room's MUC (live-room.ts).
      if (!room) throw new RoomNotStored(target.jid);
      spec =
        (await storedSpec({ kind: "room", jid: target.jid })) ??
        (await domainSpec(target.service)) ??
        (await domainSpec(query.home));
    } else if (target.kind === "server") {
      spec = (await domainSpec(target.domain)) ?? (await domainSpec(query.home));
    } else {
      spec = await domainSpec(query.home);
    }
    const roomLabels = room ? readRoom(room) : undefined;
    // A user target's "no label" item is judged on the guard's default label (unlabelled.ts): its
    // policy's clearances are read only when the catalog could offer that item.
    const unlabelled =
      target.kind === "user" && offersNoLabel(spec, personal) ? guardDefault.label : undefined;
    const policies = policiesOf(
      spec?.items,
      personal,
      roomLabels?.defaultLabel ? [{ label: roomLabels.defaultLabel }] : undefined,
      unlabelled ? [{ label: unlabelled }] : undefined,
    );

    // The requesting session's location (the guard's client-location rule, SessionLocations; toward
    // a user or a stored room): unknown while the rule applies → nothing labelled (fail closed).
    const unlocated = requesterLocations.active && !query.remote && !location.clearance;
    const requesterAt = (label: Label) =>
      query.remote === true || requesterLocations.grants(translations, label, location);

    // The requester: a local user's clearances, or (remote requests) the peer's inbound clearance.
    let requester: LabelGate;
    const requesterDomain = query.requester.slice(query.requester.indexOf("@") + 1);
    if (query.remote) {
      deps.push(`peer:${requesterDomain}`);
      const peer = await clearances.peer(requesterDomain, "inbound");
      if (peer.status === "unknown")
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: false };
      requester = clearanceGate(grantingClearance(peer));
    } else {
      deps.push(`user:${query.requester}`);
      const own = await userGate(query.requester, policies);
      // Fail closed: an unknown clearance gets an empty, restrictive catalog, never a guess.
      if (own.unknown)
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: false };
      requester = own.gate;
    }

    if (target.kind === "room") {
      if (!roomLabels || roomLabels.unusable)
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: true };
      // The MUC service's own clearance (when the store has one) bounds every room of it.
      deps.push(`service:${target.service}`);
      const service = await clearances.service(target.service);
      if (service.status === "unknown")
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: false };
      const serviceGate = service.status === "known" ? clearanceGate(service.clearance) : undefined;
      // Where the requesting session is (the MUC's sender-location rule, the guard's): only what
      // its location grants — unknown (no session named: a server on its user's behalf) → nothing.
      if (unlocated)
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: true };
      const gate: LabelGate = (label) =>
        requester(label) && (serviceGate?.(label) ?? true) && requesterAt(label);
      return {
        catalog: roomCatalog({
          to: query.target,
          spec,
          ...(personal ? { personal } : {}),
          requester: gate,
          room: roomLabels,
        }),
        deps,
        cacheable: personalLookup?.complete !== false,
      };
    }
    const gates: LabelGate[] = [requester];
    let cacheable = true;
    let noLabel = true;
    if (target.kind === "user") {
      // A user of this server: exactly the labels the central check (the guard) would deliver from
      // the requester to that user — the one-to-one rule (@cordon/rules one-to-one.ts): the
      // requester's clearance (or its peer's), the server's and the target's.
      deps.push(`user:${target.jid}`, `service:${target.domain}`);
      const sender = query.remote
        ? await clearances.peer(requesterDomain, "inbound")
        : await userStates(query.requester, policies);
      const recipient = await userStates(target.jid, policies);
      const server = await clearances.service(target.domain);
      const states = [server, ...(sender instanceof Map ? sender.values() : [sender]), ...recipient.values()];
      if (states.some((state) => state.status === "unknown"))
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: false };
      const of = (byPolicy: ReadonlyMap<string, ClearanceState>, label: Label) =>
        byPolicy.get(label.policy.id) ?? NO_CLEARANCE;
      const parties = (label: Label) => ({
        sender: sender instanceof Map ? of(sender, label) : sender,
        server,
        recipient: of(recipient, label),
      });
      // The requesting session's location unknown, or the target's sessions (the guard's
      // recipient-location rule, recipientRefused) not known: nothing labelled, so nothing at all.
      if (unlocated || !recipients)
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: true };
      const located = (label: Label) =>
        requesterAt(label) &&
        !recipientRefused(recipients.sessions, recipients.resource, (s) =>
          requesterLocations.grants(translations, label, s.location),
        );
      gates.length = 0;
      gates.push((label) => oneToOne(translations, label, parties(label)).ok && located(label));
      // "No label" only when an unlabelled message gets through too (the guard's default label).
      noLabel =
        unlabelled !== undefined &&
        unlabelledGetsThrough(translations, unlabelled, parties(unlabelled)) &&
        located(unlabelled);
    } else if (target.kind === "remote") {
      // A remote domain: within that peer's clearance for traffic from us to it.
      deps.push(`peer:${target.domain}`);
      const peer = await clearances.peer(target.domain, "outbound");
      if (peer.status === "none")
        throw stanzaError("item-not-found", "cancel", "no peering with that domain");
      if (peer.status === "unknown")
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: false };
      gates.push(clearanceGate(peer.clearance));
    } else {
      // One of our services: within its service clearance when it has one.
      deps.push(`service:${target.domain}`);
      const service = await clearances.service(target.domain);
      if (service.status === "unknown")
        return { catalog: emptyCatalog(query.target, spec?.name, spec?.desc), deps, cacheable: false };
      if (service.status === "known") gates.push(clearanceGate(service.clearance));
    }
    if (personalLookup && !personalLookup.complete) cacheable = false;
    return {
      catalog: buildCatalog({ to: query.target, spec, ...(personal ? { personal } : {}), gates, noLabel }),
      deps,
      cacheable,
    };
  }

  function readRoom(room: RoomRecord): RoomLabels & { unusable: boolean } {
    const restrictValue = room.config[ROOM_RESTRICT_KEY];
    const restrict = typeof restrictValue === "boolean" ? restrictValue : true;
    const clearance = room.clearance
      ? clearances.parse(room.clearance, `clearance of room ${room.jid}`)
      : undefined;
    const label = room.label ? parseRawLabel(room.label, `label of room ${room.jid}`) : undefined;
    const defaultLabel = room.defaultLabel
      ? parseRawLabel(room.defaultLabel, `default label of room ${room.jid}`)
      : undefined;
    // A room whose stored clearance or label cannot be read offers nothing (fail closed).
    const unusable = (room.clearance !== undefined && !clearance) || (room.label !== undefined && !label);
    return {
      restrict,
      unusable,
      ...(clearance ? { clearance } : {}),
      ...(label ? { label } : {}),
      ...(defaultLabel ? { defaultLabel } : {}),
    };
  }

  async function lookup(asked: CatalogQuery): Promise<{ catalog: Catalog; key: string | undefined }> {
    // JIDs in the form the store keys them and names them in notifications (@cordon/jid, RFC 7622),
    // so a cached catalog's dependencies match the events that make it stale.
    const query = { ...asked, requester: toBare(asked.requester) ?? asked.requester };
    const target = resolveTarget(query.target, context);
    if (!target || !storable(target.jid))
      throw stanzaError("jid-malformed", "modify", "the catalog target is not a JID");
    // The policies' generation before anything is read under them (the location's clearance too):
    // a reload after this makes the catalog one that must not be kept.
    const policies = registry.generation;
    // Toward a user, where the requesting session is (the guard's client-location rule; asked of
    // its server only when locations are configured): part of the key, so a catalog computed for
    // one location is never served to another.
    // Toward a user, where its sessions are too (the recipient-location rule), asked at the same
    // time: the set of their locations is part of the key (an undefined one: not known, "?").
    // A stored room's catalog the same way (the MUC's rule for what the session may send there).
    const [location, recipients] = await Promise.all([
      (target.kind === "user" || target.kind === "room") && !query.remote
        ? requesterLocations.locate(query.session, sessionAddress)
        : ANYWHERE,
      target.kind === "user" ? recipientsOf(query.target) : NO_RECIPIENT_RULE,
    ]);
    // Keyed by the target as written: the catalog names it (`to`) and its id covers it.
    const key = CatalogCache.key(
      query.requester,
      query.target,
      `${query.home}${query.remote ? "\u0000r" : ""}\u0000${location.key}\u0000${recipients?.key ?? "?"}`,
    );
    const hit = cache.get(key, registry.generation);
    if (hit) return { catalog: hit.catalog, key };
    // Both generations as they were before computing (the policies' before locating): a
    // notification or a policy reload while it ran makes the catalog one that must not be kept
    // (built on old clearances or old labels).
    const generation = cache.generation;
    // What the cache keeps (its key, the catalog's `to`) are copies of their own: the target as
    // written is an attribute of the request, a V8 view of the whole socket read it came in (review
    // keep15: 200 cached catalogs held 42 MB alive). Copied on a miss only.
    const owned = {
      ...query,
      requester: internalized(query.requester),
      target: internalized(query.target),
      home: internalized(query.home),
    };
    const computed = await compute(owned, target, location, recipients);
    // (The cache keeps a copy of its own of the key and of the dependencies.)
    if (computed.cacheable) cache.set(key, computed.catalog, computed.deps, generation, policies);
    return { catalog: computed.catalog, key: computed.cacheable ? key : undefined };
  }

  /** Whether the store accepts the JID as a key (RFC 7622 forbidden characters, domain labels). */
  function storable(jid: string): boolean {
    try {
      normaliseBareJid(jid);
      return true;
    } catch (error) {
      if (error instanceof InvalidJidError) return false;
      throw error;
    }
  }

  async function catalogFor(query: CatalogQuery): Promise<Catalog> {
    return (await lookup(query)).catalog;
  }

  async function answer(query: CatalogQuery, namespace = NS_SEC_LABEL_CATALOG): Promise<Element> {
    let found: Awaited<ReturnType<typeof lookup>>;
    try {
      found = await lookup(query);
    } catch (error) {
      // A live room the store does not hold (temporary rooms are never stored): its MUC answers,
      // for a local requester in the namespace the MUC serves; not cached (no store notification
      // tells when such a room changes). Remote requesters keep item-not-found.
      if (!(error instanceof RoomNotStored) || query.remote || namespace !== NS_SEC_LABEL_CATALOG)
        throw error;
      const requester = toBare(query.requester) ?? query.requester;
      return liveRoomCatalog(component, error.room, requester, namespace, options.liveRoomTimeoutMs, logger);
    }
    const { catalog, key } = found;
    const entry = key ? cache.get(key, registry.generation) : undefined;
    // The catalog's `to` is the target as the client wrote it (part of the cache key).
    if (entry && entry.catalog.to === query.target && key) {
      // Kept with the entry (and weighed with it): the namespace (the request's xmlns, a view of
      // its socket read) as the engine's own copy, in the key and in the element (review keep15).
      return copyElement(
        cache.element(key, entry, namespace, () => catalogElement(catalog, internalized(namespace))),
      );
    }
    return catalogElement(catalog, namespace);
  }

  /** Who asked for what, as far as the request got before it was answered or refused (the audit). */
  interface Noted {
    actor: string;
    target?: string;
    remote: boolean;
  }

  async function handle(request: IqRequest, audited: Noted): Promise<Element> {
    const namespace = request.payload.attrs.xmlns ?? NS_SEC_LABEL_CATALOG;
    const from = parseJid(request.from);
    if (!from) throw stanzaError("bad-request", "modify", "no requester");
    const server = delegatedBy(request);
    const local = served.includes(from.domain) && (!server || server === from.domain);
    const onBehalf = request.payload.attrs.from;
    let requester = bareJid(from);
    let remote = false;
    if (local) {
      // A request from a user of a served domain is judged on that user's own clearance, whatever
      // `<catalog from>` says (issue 16 item 10: `from` made a local user a "remote" one, judged on
      // the peer clearance stored for its own domain). Only the served server itself, asking for
      // one of its users (XEP-0258 `<catalog from>`), names the user — and that user is local too.
      if (!from.local && onBehalf !== undefined) {
        const behalf = parseJid(onBehalf);
        if (!behalf?.local || behalf.domain !== from.domain)
          throw stanzaError("forbidden", "cancel", "catalog from must be a user of the requesting server");
        requester = bareJid(behalf);
      }
    } else {
      // XEP-0258: a server may ask for a catalog for one of its users (`<catalog from>`).
      if (!options.remoteRequests)
        throw stanzaError("forbidden", "cancel", "catalog requests from other servers are not accepted");
      remote = true;
      const behalf = onBehalf !== undefined ? parseJid(onBehalf) : undefined;
      if (onBehalf !== undefined && (!behalf || behalf.domain !== from.domain))
        throw stanzaError("forbidden", "cancel", "catalog from must be a user of the requesting server");
      // A served domain is never a peer: a request for one of its users that does not come from
      // it (another delegating server) is refused, never judged on a peer clearance.
      if (served.includes(from.domain))
        throw stanzaError("forbidden", "cancel", "not a request from a peer server");
      requester = behalf ? bareJid(behalf) : from.domain;
    }
    const home = server ?? (local ? from.domain : (served[0] as string));
    const target = request.payload.attrs.to ?? (server ? request.to : home);
    audited.actor = requester;
    const named = parseJid(target);
    if (named) audited.target = bareJid(named); // folded and bare: never the client's own spelling

    audited.remote = remote;
    // The session asking (its location: SessionLocations) — the user's own, never a server's.
    const session = local && from.local && from.resource ? request.from : undefined;
    const element = await answer(
      { requester, home, target, ...(remote ? { remote } : {}), ...(session ? { session } : {}) },
      namespace,
    );
    logger.debug(
      { ns: namespace, target, delegated: server !== undefined, items: element.attrs.size },
      "catalog answered",
    );
    return element;
  }

  const pending = new PendingBudget(options.pending ?? {});
  /** A request held while its answer is computed, within the pending limits (else resource-constraint). */
  async function bounded(request: IqRequest, audited: Noted): Promise<Element> {
    const release = pending.acquire(toBare(request.from) ?? request.from, elementBytes(request.stanza));
    if (!release) throw stanzaError("resource-constraint", "wait");
    try {
      return await handle(request, audited);
    } finally {
      release();
    }
  }

  const observed = options.onDecision;
  const onAudit = options.onAudit;
  const handlers = {
    get: async (request: IqRequest): Promise<Element> => {
      const audited: Noted = { actor: toBare(request.from) ?? "", remote: false };
      try {
        const element = await bounded(request, audited);
        observed?.("grant", "answered");
        onAudit?.({ granted: true, reason: "answered", ...audited, items: Number(element.attrs.size ?? 0) });
        return element;
      } catch (error) {
        const reason = error instanceof StanzaErrorException ? error.spec.condition : "internal-error";
        observed?.("deny", reason);
        onAudit?.({ granted: false, reason, ...audited });
        throw error;
      }
    },
  };
  delegate(component, NS_SEC_LABEL_CATALOG, handlers, { features: DELEGATED_FEATURES, servers: served });
  // The older namespaces: direct requests, and delegated ones when the server delegates them too.
  for (const ns of CATALOG_NAMESPACES) {
    if (ns !== NS_SEC_LABEL_CATALOG)
      delegate(component, ns, handlers, { features: [NS_SEC_LABEL, ns], servers: served });
  }
  component.disco({
    info: ({ to, node }) =>
      node || to !== component.domain
        ? undefined
        : {
            identities: [
              { category: "component", type: "generic", name: options.name ?? "Cordon label catalog" },
            ],
            features: [NS_DISCO_ITEMS, NS_SEC_LABEL, ...CATALOG_NAMESPACES],
          },
    items: () => [],
  });

  return {
    component,
    cache,
    memory: () => [
      {
        buffer: "pending",
        bytes: pending.bytes,
        maxBytes: pending.limits.totalBytes,
        entries: pending.count,
      },
      { buffer: "catalog-cache", bytes: cache.bytes, maxBytes: cache.maxBytes, entries: cache.size },
    ],
    start: () => component.start(),
    async stop() {
      for (const unsubscribe of unsubscribers) unsubscribe();
      await component.stop();
    },
    catalogFor,
    answer,
  };
}
