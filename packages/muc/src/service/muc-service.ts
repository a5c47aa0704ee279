// The labelled MUC component: routes stanzas to rooms, answers disco, admin and owner IQs, keeps
// persistent rooms in the shared store, and acts on clearance changes at once (an occupant whose
// clearance no longer covers the room is removed, not at their next message).
import {
  parseJid,
  bareJid,
  stanzaError,
  errorReply,
  isErrorStanza,
  type CordonComponent,
  type Element,
  type Logger,
  type StanzaErrorSpec,
  silentLogger,
} from "@cordon/component";
import { acdf, type PolicyRegistry } from "@cordon/policy";
import type { ClearanceStore, StoreEvent, UserClearanceSource } from "@cordon/store";
import { ClearanceBook } from "../security/clearance-book.js";
import { MessageLabelResolver } from "../security/message-label.js";
import { LabelRendering } from "../security/label-rendering.js";
import { sameClearanceState } from "../security/clearance-state.js";
import type { Room } from "../room/room.js";
import type { MucContext, MucObserver, MucSettings } from "./context.js";
import { LabelAwareness } from "./label-awareness.js";
import { onRoomPresence, removeOccupant } from "./presence.js";
import { onGroupchat } from "./groupchat.js";
import { onPrivateMessage } from "./private-message.js";
import { onInvite, onDecline } from "./invite.js";
import { adminGet, adminSet } from "./admin.js";
import { ownerGet, ownerSet, enforceRoomLabel } from "./owner.js";
import { discoInfo, discoItems } from "./disco.js";
import { roomCatalogElement } from "./room-catalog.js";
import { roomToRecord, roomFromRecord, parseHistoryEntry } from "./persistence.js";
import {
  NS_MAM,
  NS_MUC_ADMIN,
  NS_MUC_OWNER,
  NS_MUC_USER,
  NS_PING,
  NS_SEC_LABEL_CATALOG,
} from "../namespaces.js";
import { archiveFields, queryArchive } from "./archive.js";
import { subjectStanza } from "./subject.js";
import { preparePolicyReload, type PolicyReload } from "./policy-reload.js";

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
}

export function createMucService(options: MucServiceOptions): MucService {
  const { component, registry, store, settings } = options;
  const logger = options.logger ?? silentLogger();
  const rooms = new Map<string, Room>();
  const clearances = new ClearanceBook({
    registry,
    users: options.users ?? store,
    peers: store,
    localDomains: settings.localDomains,
    onMalformed: (subject) => logger.warn({ subject }, "stored clearance is malformed; treated as none"),
  });
  const ctx: MucContext = {
    component,
    settings,
    registry,
    store,
    clearances,
    labels: new MessageLabelResolver(registry, options.governingPolicy),
    rendering: new LabelRendering(),
    awareness: new LabelAwareness(component, settings.capsTimeoutMs),
    rooms,
    unreadableRooms: new Set<string>(),
    logger,
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
    async refuse(stanza: Element, spec: StanzaErrorSpec) {
      if (isErrorStanza(stanza) || !stanza.attrs.from) return;
      try {
        await component.send(errorReply(stanza, spec));
      } catch (error) {
        logger.debug({ err: (error as Error).message }, "could not send an error");
      }
    },
  };

  const split = (to: string | undefined) => {
    const jid = parseJid(to ?? "");
    if (!jid || jid.domain !== settings.domain) return undefined;
    return { room: jid.local ? bareJid(jid) : undefined, nick: jid.resource };
  };

  component.onPresence(async (stanza) => {
    const target = split(stanza.attrs.to);
    if (!target?.room) return;
    await onRoomPresence(ctx, stanza, target.room, target.nick);
  });

  component.onMessage(async (stanza) => {
    const target = split(stanza.attrs.to);
    if (!target?.room) return;
    // Errors are never answered, and errors carrying a label are dropped (XEP-0258 §"Use in XMPP").
    if (stanza.attrs.type === "error") return;
    const room = rooms.get(target.room);
    if (!room || room.destroyed)
      return ctx.refuse(stanza, { condition: "item-not-found", type: "cancel", text: "no such room" });
    const sender = room.byJid.get(stanza.attrs.from ?? "");
    if (target.nick) {
      if (!sender)
        return ctx.refuse(stanza, {
          condition: "not-acceptable",
          type: "modify",
          text: "only occupants may send private messages",
        });
      return onPrivateMessage(ctx, room, sender, stanza, target.nick);
    }
    const user = stanza.getChild("x", NS_MUC_USER);
    const invite = user?.getChild("invite");
    const decline = user?.getChild("decline");
    if (decline) return onDecline(ctx, room, stanza, decline);
    if (!sender)
      return ctx.refuse(stanza, {
        condition: "not-acceptable",
        type: "modify",
        text: "you are not in this room",
      });
    if (invite) return onInvite(ctx, room, sender, stanza, invite);
    if (stanza.attrs.type === "groupchat") return onGroupchat(ctx, room, sender, stanza);
    return ctx.refuse(stanza, {
      condition: "bad-request",
      type: "modify",
      text: "messages to the room must be of type groupchat",
    });
  });

  const roomFor = (to: string): Room => {
    const target = split(to);
    const room = target?.room ? rooms.get(target.room) : undefined;
    if (!room || room.destroyed || target?.nick) throw stanzaError("item-not-found", "cancel");
    return room;
  };

  component.disco({ info: (q) => discoInfo(ctx, q), items: (q) => discoItems(ctx, q) });
  component.handleIq(NS_MUC_ADMIN, {
    get: (r) => adminGet(ctx, roomFor(r.to), r),
    set: (r) => adminSet(ctx, roomFor(r.to), r),
  });
  component.handleIq(NS_MUC_OWNER, {
    get: (r) => ownerGet(ctx, roomFor(r.to), r),
    set: (r) => ownerSet(ctx, roomFor(r.to), r),
  });
  // XEP-0313: the room's archive, read per requester like history.
  component.handleIq(NS_MAM, {
    get: (r) => {
      roomFor(r.to);
      return archiveFields();
    },
    set: (r) => queryArchive(ctx, roomFor(r.to), r),
  });
  // XEP-0410 §5 (self-ping): answered directly for the occupant's own nick; not-acceptable when
  // the sender is not (any longer) in the room under that nick.
  component.handleIq(NS_PING, {
    get: (r) => {
      const target = split(r.to);
      if (!target?.room) return undefined;
      const room = rooms.get(target.room);
      if (!room) throw stanzaError("item-not-found", "cancel");
      const occupant = room.byJid.get(r.from);
      if (!target.nick) return undefined;
      if (!occupant) throw stanzaError("not-acceptable", "cancel", "you are not in this room");
      if (occupant.nick !== target.nick && !room.occupants.has(target.nick))
        throw stanzaError("item-not-found", "cancel");
      return undefined;
    },
  });
  component.handleIq(NS_SEC_LABEL_CATALOG, {
    get: async (r) => {
      const room = roomFor(r.payload.attrs.to ?? r.to);
      const requester = await clearances.lookup(parseJid(r.from) ? bareJid(parseJid(r.from)!) : "");
      if (requester.kind === "unknown")
        throw stanzaError("internal-server-error", "wait", "your clearance cannot be determined right now");
      return roomCatalogElement(ctx, room, requester, room.jid);
    },
  });

  /** Re-reads the clearances of the given bare JIDs (all occupants when omitted) and acts on changes. */
  async function refresh(bares?: Set<string>): Promise<void> {
    const targets = new Map<string, Awaited<ReturnType<ClearanceBook["lookup"]>>>();
    for (const room of rooms.values())
      for (const o of room.occupants.values())
        if (!bares || bares.has(o.bare)) targets.set(o.bare, o.clearance);
    const fresh = new Map<string, Awaited<ReturnType<ClearanceBook["lookup"]>>>();
    await Promise.all(
      [...targets.keys()].map(async (bare) => fresh.set(bare, await clearances.lookup(bare))),
    );
    for (const room of [...rooms.values()]) {
      for (const occupant of [...room.occupants.values()]) {
        const state = fresh.get(occupant.bare);
        if (!state || sameClearanceState(state, occupant.clearance)) continue;
        const wasUnknown = occupant.clearance.kind === "unknown";
        occupant.clearance = state;
        if (state.kind === "unknown") {
          logger.warn(
            { room: room.jid },
            "an occupant's clearance became unknown; nothing labelled reaches them until it is known again",
          );
          continue;
        }
        const clearance = state.kind === "known" ? state.clearance : undefined;
        if (!acdf(room.security.label, clearance).granted) {
          await removeOccupant(ctx, room, occupant, {
            statuses: [307],
            reason: "Your clearance no longer covers this room's label",
          });
        } else if (wasUnknown) {
          // Known again and still cleared: the subject it may have missed meanwhile.
          await ctx.send([subjectStanza(room, occupant.jid)]);
        }
      }
    }
  }

  async function reloadRoom(jid: string): Promise<void> {
    let record;
    try {
      record = await store.getRoom(jid);
    } catch (error) {
      logger.warn({ room: jid, err: (error as Error).message }, "could not reload room");
      return;
    }
    const live = rooms.get(jid);
    if (!record) {
      ctx.unreadableRooms.delete(jid); // deleted elsewhere (or never persistent): keep the live state
      return;
    }
    const { room: loaded, broken } = roomFromRecord(ctx, record);
    if (broken) {
      // Fail closed: nobody stays in, or enters, a room whose label cannot be read now.
      logger.error({ room: jid }, "room security settings do not parse; room closed until they do");
      ctx.unreadableRooms.add(jid);
      if (live) {
        for (const occupant of [...live.occupants.values()]) {
          await removeOccupant(ctx, live, occupant, {
            statuses: [307, 333],
            reason: "The room's security settings cannot be read",
          });
        }
        rooms.delete(jid);
      }
      return;
    }
    ctx.unreadableRooms.delete(jid);
    if (!live) {
      rooms.set(jid, loaded);
      return;
    }
    live.config = loaded.config;
    live.security = loaded.security;
    live.locked = loaded.locked;
    live.subject = loaded.subject;
    live.affiliations.clear();
    for (const [j, a] of loaded.affiliations) live.setAffiliation(j, a);
    await enforceRoomLabel(ctx, live);
  }

  // While the store is down, re-read every occupant's clearance each second: once cached answers
  // pass their TTL they turn "unknown" and nothing labelled reaches anyone (fail closed) — not only
  // at the next periodic refresh. When it is back, re-read at once.
  let outageTimer: NodeJS.Timeout | undefined;
  function onConnection(state: "down" | "up"): void {
    if (state === "down" && !outageTimer) {
      outageTimer = setInterval(() => void refresh().catch(() => undefined), 1000);
      outageTimer.unref();
    } else if (state === "up") {
      if (outageTimer) clearInterval(outageTimer);
      outageTimer = undefined;
      void refresh().catch(() => undefined);
    }
  }

  // Store events arrive on the store's emitter, which cannot wait: each refresh runs on its own and
  // a failure is left to the next event or the periodic refresh (the outage timer above retries).
  function onStoreEvent(event: StoreEvent): void {
    if (event.kind === "connection") return onConnection(event.state);
    if (event.kind === "user-clearance")
      void refresh(new Set([event.jid])).catch((e: Error) =>
        logger.warn({ err: e.message }, "clearance refresh failed"),
      );
    else if (event.kind === "peer-clearance" || event.kind === "service-clearance")
      void refresh().catch(() => undefined);
    else if (event.kind === "room" && event.jid.endsWith(`@${settings.domain}`)) void reloadRoom(event.jid);
  }

  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  return {
    rooms,
    async start() {
      for (const jid of await store.listRooms(settings.domain)) {
        const record = await store.getRoom(jid);
        if (!record) continue;
        const { room, broken } = roomFromRecord(ctx, record);
        if (broken) {
          logger.error(
            { room: jid },
            "room security settings do not parse under the loaded policies; room closed until they do",
          );
          ctx.unreadableRooms.add(jid);
          continue;
        }
        for (const text of await store.getRoomHistory(jid)) {
          const entry = parseHistoryEntry(text);
          if (entry) room.pushHistory(entry);
        }
        rooms.set(jid, room);
      }
      logger.info({ rooms: rooms.size }, "persistent rooms loaded");
      // Clearance changes come from the clearance source (store, and the directory behind a
      // resolver); everything else (rooms, peers, the connection) from the store itself.
      const users = options.users;
      if (users && users !== store) {
        const offStore = store.subscribe((event) => {
          if (event.kind !== "user-clearance") onStoreEvent(event);
        });
        const offUsers = users.subscribe((event) => {
          if (event.kind === "user-clearance") onStoreEvent(event);
        });
        unsubscribe = () => {
          offStore();
          offUsers();
        };
      } else {
        unsubscribe = store.subscribe(onStoreEvent);
      }
      timer = setInterval(() => void refresh().catch(() => undefined), settings.clearanceRefreshMs);
      timer.unref();
      await component.start();
    },
    async stop() {
      unsubscribe?.();
      if (timer) clearInterval(timer);
      if (outageTimer) clearInterval(outageTimer);
      await component.stop();
    },
    refreshClearances: () => refresh(),
    // The refresh is not awaited: the reload answers at once; a failed re-read is left to the timer.
    reloadPolicies: (next) => preparePolicyReload(ctx, next, () => void refresh().catch(() => undefined)),
  };
}
