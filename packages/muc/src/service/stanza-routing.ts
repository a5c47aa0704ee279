// Stanza routing: which handler gets each stanza addressed to the service. Presence goes to the
// room (XEP-0045 §7); messages to the room or to an occupant (groupchat, invitations and declines,
// private messages); IQs to the room by namespace (disco, muc#admin, muc#owner, XEP-0313 archive,
// XEP-0410 self-ping, the XEP-0258 room catalog). Errors are never answered.
import {
  bareJid,
  elementBytes,
  parseJid,
  RESOURCE_CONSTRAINT,
  stanzaError,
  throttleKey,
  type Element,
} from "@cordon/component";
import {
  NS_MAM,
  NS_MUC_ADMIN,
  NS_MUC_OWNER,
  NS_MUC_USER,
  NS_PING,
  NS_SEC_LABEL_CATALOG,
} from "../namespaces.js";
import type { Room } from "../room/room.js";
import type { MucContext } from "./context.js";
import { onRoomPresence } from "./presence.js";
import { onGroupchat } from "./groupchat.js";
import { onMulticastError } from "./multicast.js";
import { onPrivateMessage } from "./private-message.js";
import { onInvite, onDecline } from "./invite.js";
import { adminGet, adminSet } from "./admin.js";
import { ownerGet, ownerSet } from "./owner.js";
import { discoInfo, discoItems } from "./disco.js";
import { roomCatalogElement } from "./room-catalog.js";
import { catalogRequester } from "./catalog-requester.js";
import { archiveFields, queryArchive } from "./archive.js";
import { discoverable, discoverableOnly } from "../security/room-discovery.js";
import { readServiceBound } from "../security/service-clearance.js";
import { occupantless } from "../security/occupant-location.js";
import { ANYWHERE } from "@cordon/rules";

/**
 * Runs a presence or message handler with the stanza counted as pending (pending-budget.ts) until
 * it is done: a join waits for the client's disco#info and a clearance, a fan-out for queue room.
 * Past the sender's or the service's limit the stanza is refused at once (resource-constraint).
 */
async function bounded(ctx: MucContext, stanza: Element, handle: () => Promise<void>): Promise<void> {
  const release = ctx.pending.acquire(throttleKey(stanza), elementBytes(stanza));
  if (!release) {
    // Presence of type unavailable or error is never answered (RFC 6120 §8.3.1), nor are errors.
    if (stanza.name === "message" || stanza.attrs.type === undefined)
      await ctx.refuse(stanza, RESOURCE_CONSTRAINT);
    return;
  }
  try {
    await handle();
  } finally {
    release();
  }
}

/** Registers the service's stanza handlers on its component. */
export function routeStanzas(ctx: MucContext): void {
  const { component, rooms } = ctx;
  const split = (to: string | undefined) => {
    const jid = parseJid(to ?? "");
    if (!jid || jid.domain !== ctx.settings.domain) return undefined;
    return { room: jid.local ? bareJid(jid) : undefined, nick: jid.resource };
  };

  component.onPresence(async (stanza) => {
    const target = split(stanza.attrs.to);
    if (!target?.room) return;
    await bounded(ctx, stanza, () => onRoomPresence(ctx, stanza, target.room as string, target.nick));
  });

  component.onMessage((stanza) =>
    // XEP-0033: the multicast service refused one of our fan-out stanzas (service/multicast.ts).
    // Not counted as pending: it comes from the server, each error releases at most one kept
    // stanza (bounded by the multicast book), and one refused for budget would lose its chunk.
    stanza.attrs.type === "error" && ctx.multicast?.isService(stanza.attrs.from)
      ? onMulticastError(ctx, stanza)
      : bounded(ctx, stanza, () => onMessage(stanza)),
  );

  const onMessage = async (stanza: Element): Promise<void> => {
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
  };

  const roomFor = (to: string): Room => {
    const target = split(to);
    const room = target?.room ? rooms.get(target.room) : undefined;
    if (!room || room.destroyed || target?.nick) throw stanzaError("item-not-found", "cancel");
    return room;
  };

  // Rooms are discoverable only by requesters cleared for their label (security/room-discovery.ts).
  component.disco(
    discoverableOnly(ctx, { info: (q) => discoInfo(ctx, q), items: (q) => discoItems(ctx, q) }),
  );
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
      const requester = await ctx.clearances.lookup(catalogRequester(ctx, r));
      if (requester.status === "unknown")
        throw stanzaError("internal-server-error", "wait", "your clearance cannot be determined right now");
      // The catalog names the room: only for requesters who may discover it (room-discovery.ts).
      discoverable(ctx, room, requester);
      const service = await readServiceBound(ctx);
      // Where the asking session is (security/occupant-location.ts): an occupant's, as learnt at
      // its join. Any other session is not asked about (a question per catalog request, from
      // anyone, would be unbounded): it cannot send to the room before it joins, and until then
      // it is at the unknown location (nothing labelled) — when it is a session of a served
      // domain, as ours are located. On a catalog service's behalf (`<catalog from>`: a bare
      // JID, no session) it is not located, as the catalog service does not locate room targets.
      const location =
        room.byJid.get(r.from)?.location ??
        (r.payload.attrs.from !== undefined ? ANYWHERE : occupantless(ctx, r.from));
      return roomCatalogElement(
        ctx,
        discoverable(ctx, room, requester),
        requester,
        room.jid,
        service,
        location,
      );
    },
  });
}
