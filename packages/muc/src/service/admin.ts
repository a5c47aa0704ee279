// muc#admin (XEP-0045 §8 moderator and §9 admin use cases): kick (role none, 307), voice
// (participant/visitor), moderator grants, and affiliation changes — ban (outcast, 301), member,
// admin, owner — plus the lists. Items are applied all-or-nothing.
import { toBare, xml, stanzaError, isElement, type Element, type IqRequest } from "@cordon/component";
import type { Room } from "../room/room.js";
import {
  mayChangeAffiliation,
  mayChangeRole,
  defaultRole,
  type Affiliation,
  type Role,
} from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { NS_MUC_ADMIN } from "../namespaces.js";
import { removeOccupant } from "./presence.js";
import { occupantPresence, presencePayloadFor } from "./stanzas.js";
import { itemFor } from "./visibility.js";
import { requireClearedActor, requireClearedGrantee } from "../security/room-authority.js";

const ROLES: readonly Role[] = ["moderator", "participant", "visitor", "none"];
const AFFILIATIONS: readonly Affiliation[] = ["owner", "admin", "member", "outcast", "none"];

export async function adminGet(ctx: MucContext, room: Room, request: IqRequest): Promise<Element> {
  await requireClearedActor(ctx, room, request.from);
  const actor = room.affiliationOf(toBare(request.from) ?? "");
  const occupant = room.byJid.get(request.from);
  const item = request.payload.getChild("item");
  const role = item?.attrs.role as Role | undefined;
  const affiliation = item?.attrs.affiliation as Affiliation | undefined;
  if (affiliation && AFFILIATIONS.includes(affiliation) && affiliation !== "none") {
    if (actor !== "owner" && actor !== "admin") throw stanzaError("forbidden", "auth");
    const items = [...room.affiliations]
      .filter(([, a]) => a === affiliation)
      .map(([jid]) => xml("item", { affiliation, jid }));
    return xml("query", { xmlns: NS_MUC_ADMIN }, ...items);
  }
  if (role && (role === "moderator" || role === "participant")) {
    if (occupant?.role !== "moderator") throw stanzaError("forbidden", "auth");
    const items = [...room.occupants.values()]
      .filter((o) => o.role === role)
      .map((o) => xml("item", { role, nick: o.nick, affiliation: o.affiliation, jid: o.jid }));
    return xml("query", { xmlns: NS_MUC_ADMIN }, ...items);
  }
  throw stanzaError("bad-request", "modify", "ask for one role or affiliation list");
}

export async function adminSet(ctx: MucContext, room: Room, request: IqRequest): Promise<void> {
  const actorBare = toBare(request.from) ?? "";
  const actorOccupant = room.byJid.get(request.from);
  const actorAffiliation = room.affiliationOf(actorBare);
  const items = request.payload.children.filter(isElement).filter((c) => c.name === "item");
  if (items.length === 0) throw stanzaError("bad-request", "modify");
  await requireClearedActor(ctx, room, request.from);
  // Validate every item first (all-or-nothing, §9.5).
  const actions: (() => Promise<void>)[] = [];
  for (const item of items) {
    const reason = item.getChildText("reason") ?? undefined;
    if (item.attrs.role !== undefined) {
      const role = item.attrs.role as Role;
      const target = item.attrs.nick ? room.occupants.get(item.attrs.nick) : undefined;
      if (!ROLES.includes(role)) throw stanzaError("bad-request", "modify", "unknown role");
      if (!target) throw stanzaError("item-not-found", "cancel", "no occupant has that nickname");
      if (!actorOccupant || !mayChangeRole(actorOccupant, target, role))
        throw stanzaError("not-allowed", "cancel", "you may not change that occupant's role");
      actions.push(async () => {
        if (role === "none") {
          await removeOccupant(ctx, room, target, { statuses: [307], reason, actor: actorOccupant.nick });
        } else {
          target.role = role;
          await broadcastPresence(ctx, room, target.nick, reason);
        }
      });
    } else if (item.attrs.affiliation !== undefined) {
      const affiliation = item.attrs.affiliation as Affiliation;
      const jid =
        toBare(item.attrs.jid) ?? (item.attrs.nick ? room.occupants.get(item.attrs.nick)?.bare : undefined);
      if (!AFFILIATIONS.includes(affiliation))
        throw stanzaError("bad-request", "modify", "unknown affiliation");
      if (!jid) throw stanzaError("bad-request", "modify", "the item needs a jid");
      const current = room.affiliationOf(jid);
      if (!mayChangeAffiliation(actorAffiliation, current, affiliation))
        throw stanzaError("not-allowed", "cancel", "you may not change that affiliation");
      if (current === "owner" && affiliation !== "owner" && room.owners().length === 1)
        throw stanzaError("conflict", "cancel", "a room needs an owner");
      await requireClearedGrantee(ctx, room, jid, affiliation);
      actions.push(async () => {
        room.setAffiliation(jid, affiliation);
        for (const occupant of [...room.occupants.values()].filter((o) => o.bare === jid)) {
          if (affiliation === "outcast") {
            await removeOccupant(ctx, room, occupant, {
              statuses: [301],
              reason,
              actor: actorOccupant?.nick ?? "",
              affiliation: "outcast",
            });
          } else if (affiliation === "none" && room.config.membersOnly) {
            await removeOccupant(ctx, room, occupant, { statuses: [321], reason, affiliation: "none" });
          } else {
            occupant.role = defaultRole(affiliation, room.config.moderated);
            await broadcastPresence(ctx, room, occupant.nick, reason);
          }
        }
      });
    } else {
      throw stanzaError("bad-request", "modify", "an item needs a role or an affiliation");
    }
  }
  for (const action of actions) await action();
  await ctx.saveRoom(room);
}

async function broadcastPresence(
  ctx: MucContext,
  room: Room,
  nick: string,
  reason: string | undefined,
): Promise<void> {
  const subject = room.occupants.get(nick);
  if (!subject) return;
  await ctx.send(
    [...room.occupants.values()].map((other) =>
      occupantPresence({
        roomJid: room.jid,
        occupant: subject,
        to: other.jid,
        payload: presencePayloadFor(other, subject),
        // A moderator's reason is room content: only for those whose clearance is known now.
        item: itemFor(room, subject, other, reason && other.clearance.status === "known" ? { reason } : {}),
        ...(other === subject ? { statuses: [110] } : {}),
      }),
    ),
  );
}
