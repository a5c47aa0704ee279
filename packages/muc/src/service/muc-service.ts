// The labelled MUC component: builds the shared context every handler works on and wires the
// service's concerns, each in its own file: stanza routing (stanza-routing.ts), the clearance
// watch (clearance-watch.ts: store events, the outage timer, the periodic refresh), room sync
// (room-sync.ts: persistent rooms loaded at start and re-read on store notifications) and policy
// hot reload (policy-reload.ts).
import {
  DEFAULT_QUEUE_BYTES,
  errorReply,
  isErrorStanza,
  PendingBudget,
  SenderThrottle,
  serialisedFits,
  silentLogger,
  throttledSpec,
  type BufferUse,
  type CordonComponent,
  type Element,
  type Logger,
  type StanzaErrorSpec,
} from "@cordon/component";
import type { PolicyRegistry } from "@cordon/policy";
import type { ClearanceStore, UserClearanceSource } from "@cordon/store";
import { ClearanceBook } from "../security/clearance-book.js";
import {
  askingServer,
  ClearanceReader,
  Markings,
  SessionLocations,
  StanzaLabels,
  type ClientLocationOptions,
  type SessionAddress,
} from "@cordon/rules";
import type { Room } from "../room/room.js";
import type { MucContext, MucObserver, MucSettings } from "./context.js";
import { LabelAwareness } from "./label-awareness.js";
import { roomToRecord } from "./persistence.js";
import { routeStanzas } from "./stanza-routing.js";
import { ClearanceWatch } from "./clearance-watch.js";
import { loadRooms, syncRoom } from "./room-sync.js";
import { preparePolicyReload, type PolicyReload } from "./policy-reload.js";
import { HistoryBudget } from "../room/history-budget.js";
import { OccupantBudget } from "../room/occupant-budget.js";
import { Multicast } from "./multicast.js";
import { discoverMulticast } from "./multicast-discovery.js";
import { mucOperator, type MucOperator } from "./operator.js";

export interface MucServiceOptions {
  component: CordonComponent;
  registry: PolicyRegistry;
  /** OID of the governing policy (XEP-0258: the one labels are judged in). */
  governingPolicy: string;
  store: ClearanceStore;
  /** Where user clearances come from (store then directory); defaults to the store. */
  users?: UserClearanceSource;
  settings: MucSettings;
  logger?: Logger;
  now?: () => number;
  /** Operator metrics: called at each join and groupchat decision (see MucObserver). */
  observer?: MucObserver;
  /**
   * The guard's client locations (components.guard.locations / otherLocations, read from the same
   * configuration as the guard: @cordon/cli). Then each occupant of a served domain is located
   * when it joins (its address asked of its server) and receives and sends only what its location
   * grants (security/occupant-location.ts). None, or no ranges: no question, no location rule.
   * Re-read at each policy reload.
   */
  locations?: ClientLocationOptions;
  /** How a session's address is learnt; default: asked of its server through this component. */
  sessionAddress?: SessionAddress;
  /** How long the server may take to tell a session's address (default 2 s); then: unknown location. */
  sessionAddressTimeoutMs?: number;
}

export interface MucService {
  readonly rooms: ReadonlyMap<string, Room>;
  /** Loads persistent rooms, subscribes to store changes, connects. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Re-reads every occupant's clearance now (also runs on a timer). */
  refreshClearances(): Promise<void>;
  /**
   * Policy hot reload: re-reads every label and clearance the service holds under `next.registry`
   * and throws MucReloadError (nothing changed) when a room's no longer reads. Returns the install
   * step, to run in the tick the shared registry switches (PolicyRegistry.replaceAll): it installs
   * `next.settings` and the re-read rooms, removes occupants the room label no longer admits, and
   * re-reads every clearance.
   */
  reloadPolicies(next: PolicyReload): () => void;
  /** The service operator's room operations (the admin console; security/service-operator.ts). */
  readonly operator: MucOperator;
  /** What each bounded buffer holds now (history, presence payloads, pending, throttle, outgoing queue, multicast, label cache). */
  memory(): BufferUse[];
}

export function createMucService(options: MucServiceOptions): MucService {
  const ctx = createContext(options);
  routeStanzas(ctx);
  // Nothing is decided before the changes published until it arrived are heard (a pause: @cordon/store notification-barrier.ts).
  // Room notifications are applied one by one as they come; failures are logged by room sync.
  const watch = new ClearanceWatch(ctx, {
    ...(options.users ? { users: options.users } : {}),
    onRoom: (jid) => void syncRoom(ctx, jid),
  });
  // A hold that ends with the store still behind (its PING gave up) leaves the occupants'
  // clearances unknown until re-read, before the held stanzas are decided (adv13s).
  let heard: Promise<void> | undefined;
  let settled: Promise<void> | undefined;
  ctx.component.holdIncoming(() => {
    const next = options.store.notificationsHeard?.();
    if (next === undefined) return undefined;
    if (next !== heard) {
      heard = next;
      settled = next.then(() => {
        if (options.store.notificationsHeard?.() !== undefined) watch.behind();
      });
    }
    return settled;
  });
  return {
    rooms: ctx.rooms,
    async start() {
      await loadRooms(ctx);
      watch.start();
      await ctx.component.start();
      // XEP-0033 §2: the service is used only once it answered as one (fail closed).
      if (ctx.multicast) await discoverMulticast(ctx);
    },
    async stop() {
      watch.stop();
      ctx.clearances.close();
      ctx.locations.close();
      await ctx.component.stop();
    },
    refreshClearances: () => watch.refresh(),
    reloadPolicies: (next) => preparePolicyReload(ctx, next, () => watch.refreshSoon()),
    memory: () => memoryUse(ctx),
    operator: mucOperator(ctx),
  };
}

function memoryUse(ctx: MucContext): BufferUse[] {
  const { history, occupants } = ctx.budgets;
  ctx.multicast?.book.expire(ctx.now());
  return [
    { buffer: "history", bytes: history.bytes, maxBytes: history.totalBytes, entries: history.entries },
    {
      buffer: "presence",
      bytes: occupants.bytes,
      maxBytes: occupants.totalBytes,
      entries: occupants.occupants,
    },
    {
      buffer: "pending",
      bytes: ctx.pending.bytes,
      maxBytes: ctx.pending.limits.totalBytes,
      entries: ctx.pending.count,
    },
    {
      buffer: "throttle",
      bytes: ctx.throttle.bytes,
      maxBytes: ctx.throttle.maxBytes,
      entries: ctx.throttle.senders,
    },
    {
      buffer: "outgoing-queue",
      bytes: ctx.component.queueBytes,
      maxBytes: ctx.settings.limits?.queue?.maxBytes ?? DEFAULT_QUEUE_BYTES,
      entries: ctx.component.queueDepth,
    },
    ...(ctx.multicast
      ? [
          {
            buffer: "multicast",
            bytes: ctx.multicast.book.bytes,
            maxBytes: ctx.multicast.book.maxBytes,
            entries: ctx.multicast.book.entries,
          },
        ]
      : []),
    {
      buffer: "label-cache",
      bytes: ctx.labels.cacheBytes,
      maxBytes: ctx.labels.cacheMaxBytes,
      entries: ctx.labels.cacheSize,
    },
  ];
}

/** The context every handler works on: the component link, the rooms, the security machinery. */
function createContext(options: MucServiceOptions): MucContext {
  const { component, registry, store, settings } = options;
  const logger = options.logger ?? silentLogger();
  const limits = settings.limits ?? {};
  const throttle = new SenderThrottle(limits.throttle ?? {});
  return {
    component,
    settings,
    registry,
    store,
    clearances: new ClearanceBook({
      reader: new ClearanceReader({
        registry,
        store,
        users: options.users ?? store,
        onUnreadable: (subject, reason) =>
          logger.warn({ subject, reason }, "stored clearance does not parse; treated as unknown"),
      }),
      localDomains: settings.localDomains,
    }),
    labels: new StanzaLabels(registry),
    governingPolicy: options.governingPolicy,
    rendering: new Markings(),
    awareness: new LabelAwareness(component, settings.capsTimeoutMs),
    locations: new SessionLocations(options.locations, registry, (what, reason) =>
      logger.warn({ what, reason }, "a client location's clearance does not read under the new policies"),
    ),
    sessionAddress: options.sessionAddress ?? askingServer(component, options.sessionAddressTimeoutMs),
    rooms: new Map<string, Room>(),
    budgets: {
      history: new HistoryBudget(limits.history ?? {}),
      occupants: new OccupantBudget(limits.occupants ?? {}),
    },
    throttle,
    pending: new PendingBudget(limits.pending ?? {}),
    unreadableRooms: new Set<string>(),
    logger,
    ...(settings.multicast
      ? { multicast: new Multicast(settings.multicast, (s) => serialisedFits(component.limits, s)) }
      : {}),
    now: options.now ?? Date.now,
    ...(options.observer ? { observer: options.observer } : {}),
    async saveRoom(room) {
      if (!room.config.persistent) return;
      try {
        await store.putRoom(roomToRecord(room));
      } catch (error) {
        logger.warn({ room: room.jid, err: (error as Error).message }, "could not store the room");
      }
    },
    async send(stanzas) {
      try {
        await component.sendRaw(stanzas);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, "could not send");
      }
    },
    async sendCopies(copies) {
      try {
        await component.sendCopies(copies);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, "could not send");
      }
    },
    async refuse(stanza: Element, spec: StanzaErrorSpec) {
      if (isErrorStanza(stanza) || !stanza.attrs.from) return;
      // Repeated refusals to one sender: resource-constraint once past its limit, then nothing.
      const allowed = throttledSpec(throttle, stanza, spec);
      if (!allowed) return;
      try {
        await component.send(errorReply(stanza, allowed));
      } catch (error) {
        logger.debug({ err: (error as Error).message }, "could not send an error");
      }
    },
  };
}
