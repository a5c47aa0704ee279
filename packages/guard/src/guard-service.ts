// The guard component: Cordon's decision service for the central check (issue 17). The server
// modules (deploy/prosody/mod_cordon_guard.lua, deploy/ejabberd/mod_cordon_guard.erl) hold each
// message about to be delivered to a local user and ask here over the XEP-0114 link the guard
// already has: no new listener, no new secret, and the server's own routing is the transport
// (docs in packages/guard/README.md). Every decision is decide.ts, from the rules the MUC and the
// relay use; only the served servers themselves may ask (an IQ from their own domain).
import {
  createComponent,
  elementBytes,
  foldDomainpart,
  PendingBudget,
  stanzaError,
  toBare,
  type BufferUse,
  type ComponentOptions,
  type CordonComponent,
  type Element,
  type IqRequest,
  type PendingLimits,
  xml,
} from "@cordon/component";
import type { Clearance, Label, PolicyRegistry } from "@cordon/policy";
import {
  ClearanceReader,
  ClientLocations,
  Markings,
  StanzaLabels,
  type ClearanceSources,
  type LocationRange,
} from "@cordon/rules";
import type { UserClearanceSource } from "@cordon/store";
import { rebindGuard, type GuardBound } from "./policy-rebind.js";
import { accessVerdictElement, decideAccess, readAccess, type AccessReason } from "./access.js";
import { readServedReport } from "./cache-report.js";
import { readLatencyReport, type LatencyDelta } from "./latency-report.js";
import { decide, type DecideContext, type GuardReason } from "./decide.js";
import { ConversationReferences } from "./message-references.js";
import { GuardOptionsError } from "./errors.js";
import { NS_GUARD } from "./namespaces.js";
import { servedAsker } from "./served-asker.js";
import { readCheck, verdictElement } from "./protocol.js";
import { cacheTemplate, CacheEpoch } from "./verdict-cache.js";

export interface GuardServiceOptions extends ComponentOptions {
  /** The servers (their domains) whose modules ask: each decides for its own users only. */
  served: readonly string[];
  registry: PolicyRegistry;
  /** Service and peer clearances, notifications. */
  store: ClearanceSources;
  /** User clearances (the store + directory resolver); default the store. */
  users?: UserClearanceSource;
  /** The label of an unlabelled message; without one, unlabelled messages are refused. */
  defaultLabel?: Label;
  /** OIDs of the policies labels are accepted in, preferred first; default every loaded policy. */
  accept?: readonly string[];
  /** Client locations: a clearance per IP range (@cordon/rules client-location.ts); none: no location rule. */
  locations?: readonly LocationRange[];
  /** The clearance of an address in no range (default: such a session gets nothing labelled). */
  otherLocations?: Clearance;
  /** Checks waiting for a clearance answer, per sender and in total (defaults as @cordon/component PendingBudget). */
  pending?: PendingLimits;
  /**
   * Each decision ("deliver", or the reason it was refused or dropped), for metrics; `refresh`: a
   * question asked ahead of a kept verdict's end about a message already delivered from it
   * (protocol.ts), which renews the cache and decides no message.
   */
  onDecision?: (
    outcome: "deliver" | "refuse" | "drop",
    reason: "deliver" | GuardReason,
    refresh: boolean,
  ) => void;
  /** The server access label (access.ts): a label every user's clearance must grant to bind a resource. */
  accessLabel?: Label;
  /** Each access decision (a user binding a resource), for metrics. */
  onAccess?: (allowed: boolean, reason: AccessReason) => void;
  /** Messages a served server delivered from its verdict cache since its last report (cache-report.ts). */
  onCached?: (count: number, domain: string) => void;
  /** What a served server observed of the latency the check adds since its last report (latency-report.ts). */
  onLatency?: (deltas: readonly LatencyDelta[], domain: string) => void;
}

export interface GuardService {
  readonly component: CordonComponent;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What the checks waiting for an answer hold now. */
  memory(): BufferUse[];
  /**
   * Resolves once the served servers have answered the guard's latest cache-epoch notice (or it
   * could not be sent): from then on no module reuses a verdict decided before the latest change.
   */
  cacheEpochTold(): Promise<void>;
}

/** How deep a message may nest below the `<iq><check>` it arrives in (the component bounds the IQ at 64). */
const MAX_MESSAGE_DEPTH = 60;

export function createGuardService(options: GuardServiceOptions): GuardService {
  const served = options.served.map(foldDomainpart);
  if (served.length === 0) throw new GuardOptionsError("the guard needs at least one served domain");
  if (served.includes(foldDomainpart(options.domain)))
    throw new GuardOptionsError(`the guard's own domain ${options.domain} cannot be a served domain`);
  const component = createComponent(options);
  // Nothing is decided before the changes published until it arrived are heard (a pause: @cordon/store notification-barrier.ts).
  component.holdIncoming(() => options.store.notificationsHeard?.());
  const logger = component.logger;
  const labels = new StanzaLabels(options.registry);
  const clearances = new ClearanceReader({
    registry: options.registry,
    store: options.store,
    ...(options.users ? { users: options.users } : {}),
    onUnreadable: (subject, reason) =>
      logger.warn({ subject, reason }, "unusable clearance: treated as unknown"),
  });
  // The messages delivered per conversation (message-references.ts); a policy reload forgets them.
  const references = new ConversationReferences();
  // The configured labels and clearances, re-read under the new policies at each reload
  // (policy-rebind.ts): one bound to an old Policy object is granted by no clearance of the new ones.
  let bound: GuardBound = {
    defaultLabel: options.defaultLabel,
    accessLabel: options.accessLabel,
    locations: options.locations ?? [],
    otherLocations: options.otherLocations,
  };
  const locationsOf = (b: GuardBound) =>
    new ClientLocations({
      locations: b.locations,
      ...(b.otherLocations ? { otherLocations: b.otherLocations } : {}),
    });
  let locations = locationsOf(bound);
  const rebind = () => {
    bound = rebindGuard(bound, options.registry, (what, reason) =>
      logger.warn({ what, reason }, "a configured label or clearance does not read under the new policies"),
    );
    locations = locationsOf(bound);
  };
  const context: DecideContext = {
    labels,
    markings: new Markings(),
    clearances,
    get accept() {
      return options.accept ?? options.registry.policies().map((p) => p.id);
    },
    get defaultLabel() {
      return bound.defaultLabel;
    },
    served,
    maxDepth: MAX_MESSAGE_DEPTH,
    references,
    get locations() {
      return locations;
    },
  };
  const pending = new PendingBudget(options.pending);

  // The verdict cache's epoch (verdict-cache.ts): a new one for every clearance notification (and
  // store connection change), every policy change, and each start; the served servers are told at
  // once, and again each time the guard's link comes up.
  const epoch = new CacheEpoch();
  // No verdict is marked cacheable while a source's notifications are down (its connection lost):
  // a clearance change then goes unheard, so nothing decided meanwhile may be reused.
  const sourcesDown = new Set<number>();
  const onStoreEvent = (source: number) => (event: { kind: string; state?: string }) => {
    if (event.kind === "connection") {
      if (event.state === "down") sourcesDown.add(source);
      else sourcesDown.delete(source);
    }
    if (event.kind !== "room" && event.kind !== "catalog") epoch.bump();
  };
  const unsubscribe = [
    options.store.subscribe(onStoreEvent(0)),
    ...(options.users && options.users !== options.store ? [options.users.subscribe(onStoreEvent(1))] : []),
    options.registry.onChange(() => {
      rebind();
      references.clear();
      epoch.bump();
    }),
  ];
  let told: Promise<void> = Promise.resolve();
  const tellEpoch = (n: string) => {
    if (component.status !== "online") return; // told on the next "online"
    told = Promise.all(
      served.map((domain) =>
        component
          .request(xml("iq", { type: "set", to: domain }, xml("epoch", { xmlns: NS_GUARD, n })), 5_000)
          .then(
            () => undefined,
            (error: unknown) =>
              logger.warn(
                { domain, err: String(error) },
                "a served server did not take the guard's cache epoch",
              ),
          ),
      ),
    ).then(() => undefined);
  };
  epoch.onChange(tellEpoch);
  component.on("online", () => tellEpoch(epoch.current));

  async function check(request: IqRequest): Promise<Element> {
    // Only a served server asks, from its own domain (its module sends as the host).
    const asker = servedAsker(request.from, served);
    const read = readCheck(request.payload);
    if (!read) throw stanzaError("bad-request", "modify");
    const sender = toBare(read.message.attrs.from ?? "") ?? asker;
    const release = pending.acquire(sender, elementBytes(read.message));
    if (!release) throw stanzaError("resource-constraint", "wait");
    // The epoch the decision starts in: a change while it is made makes it not reusable.
    const decidedIn = epoch.current;
    try {
      const decision = await decide(context, asker, read);
      options.onDecision?.(decision.verdict.action, decision.reason, read.refresh === true);
      if (decision.reason !== "deliver")
        logger.debug({ reason: decision.reason, action: decision.verdict.action }, "message refused");
      const compact = read.compact ?? 0;
      return verdictElement(decision.verdict, compact > 0 ? read.message : undefined, compact === 2 ? 2 : 1, {
        epoch: decidedIn,
        template: (labels) =>
          decidedIn === epoch.current && sourcesDown.size === 0
            ? cacheTemplate(read, decision.verdict, labels, decision.flotMarking)
            : undefined,
      });
    } finally {
      release();
    }
  }

  component.handleIq(NS_GUARD, { get: check }, "check");

  // --- The server access label (access.ts): may a user bind a resource? ---
  const accessContext = {
    clearances,
    translations: labels.translations,
    get accessLabel() {
      return bound.accessLabel;
    },
  };
  async function access(request: IqRequest): Promise<Element> {
    // As for <check/>: only a served server asks, from its own domain, about one of its users.
    const asker = servedAsker(request.from, served);
    const user = readAccess(request.payload, asker);
    if (!user) throw stanzaError("bad-request", "modify");
    const decision = await decideAccess(accessContext, user);
    options.onAccess?.(decision.allowed, decision.reason);
    if (!decision.allowed) logger.info({ user, reason: decision.reason }, "resource binding denied");
    return accessVerdictElement(decision);
  }
  component.handleIq(NS_GUARD, { get: access }, "access");
  // --- end of the server access label ---

  // Verdicts the modules served from their caches (cache-report.ts): counted with the decisions.
  component.handleIq(
    NS_GUARD,
    {
      set: (request) => {
        const asker = servedAsker(request.from, served);
        const count = readServedReport(request.payload);
        if (count === undefined) throw stanzaError("bad-request", "modify");
        options.onCached?.(count, asker);
        return undefined;
      },
    },
    "served",
  );
  // The latency the modules measured the check adding (latency-report.ts): for the metrics. A
  // malformed report is refused whole (bad-request): nothing of it is counted.
  component.handleIq(
    NS_GUARD,
    {
      set: (request) => {
        const asker = servedAsker(request.from, served);
        const deltas = readLatencyReport(request.payload);
        if (deltas === undefined) {
          logger.debug({ domain: asker }, "malformed latency report ignored");
          throw stanzaError("bad-request", "modify");
        }
        options.onLatency?.(deltas, asker);
        return undefined;
      },
    },
    "latency",
  );
  component.disco({
    info: ({ to, node }) =>
      node || to !== component.domain
        ? undefined
        : {
            identities: [{ category: "component", type: "generic", name: "Cordon guard" }],
            features: [NS_GUARD],
          },
  });

  return {
    component,
    start: () => component.start(),
    async stop() {
      for (const stop of unsubscribe) stop();
      clearances.close();
      await component.stop();
    },
    cacheEpochTold: () => told,
    memory: () => [
      {
        buffer: "pending",
        bytes: pending.bytes,
        maxBytes: pending.limits.totalBytes,
        entries: pending.count,
      },
    ],
  };
}
