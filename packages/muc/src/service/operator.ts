// The service operator's room operations (the admin console; what it may do is decided in
// security/service-operator.ts): look at a room and its occupants, create a room, change its label
// (the owner's code path: readSecurityChoices, applySecurity), kick an occupant (XEP-0045 §8.2,
// presence.ts removeOccupant) and destroy a room (XEP-0045 §10.9, owner.ts destroyRoom). No rule is
// decided here: each is the one the owner's and the moderator's requests go through.
import { bareJid, parseJid, StanzaErrorException, textFits } from "@cordon/component";
import type { Clearance, Label } from "@cordon/policy";
import { CordonError } from "@cordon/errors";
import type { ClearanceState } from "@cordon/rules";
import { Room } from "../room/room.js";
import type { Affiliation, Role } from "../room/occupant.js";
import type { RoomConfig } from "../room/room-config.js";
import type { MucContext } from "./context.js";
import { applySecurity, destroyRoom, notifyConfigChange } from "./owner.js";
import { removeOccupant } from "./presence.js";
import { readSecurityChoices, type SecurityChoices } from "./room-config-form.js";
import { readServiceBound } from "../security/service-clearance.js";
import { SERVICE_OPERATOR } from "../security/service-operator.js";
import { requireClearedGrantee } from "../security/room-authority.js";

/** No room by that JID in this service (or it is destroyed). */
export class MucRoomNotFoundError extends CordonError {
  constructor() {
    super("CORDON_MUC_ROOM_NOT_FOUND", "no such room in this service");
  }
}

/** A room by that JID exists already (create), or cannot be created now (its stored record is unreadable). */
export class MucRoomExistsError extends CordonError {
  constructor(message = "a room by that JID exists already") {
    super("CORDON_MUC_ROOM_EXISTS", message);
  }
}

/** The MUC's own rule refused the operator's change; the message is the rule's text (never the value sent). */
export class MucOperatorRefusedError extends CordonError {
  constructor(message: string) {
    super("CORDON_MUC_OPERATOR_REFUSED", message);
  }
}

/** A clearance the change depends on (the service's, an owner's) cannot be read now: nothing changed. */
export class MucOperatorUnavailableError extends CordonError {
  constructor(message: string) {
    super("CORDON_MUC_OPERATOR_UNAVAILABLE", message);
  }
}

export interface OccupantView {
  nick: string;
  /** Real full JID. */
  jid: string;
  role: Role;
  affiliation: Affiliation;
  clearance: ClearanceState;
  joinedAt: number;
}

export interface RoomView {
  jid: string;
  name: string;
  description: string;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  label: Label | undefined;
  clearance: Clearance | undefined;
  /** null: unlabelled messages refused; undefined: the service's default label. */
  defaultLabel: Label | null | undefined;
  owners: string[];
  occupants: OccupantView[];
  locked: boolean;
  createdAt: number;
}

export interface CreateRoomRequest {
  /** The room's JID (localpart@this service's domain), or its localpart alone. */
  room: string;
  name?: string;
  persistent?: boolean;
  public?: boolean;
  membersOnly?: boolean;
  /** Bare JIDs made owners: each must be cleared for the room label now. */
  owners?: readonly string[];
  security: SecurityChoices;
}

export interface MucOperator {
  /** Every room of the service (not destroyed), sorted by JID. */
  rooms(): RoomView[];
  room(jid: string): RoomView;
  create(request: CreateRoomRequest): Promise<RoomView>;
  /** Sets the room label (and optionally the clearance and default label): the owner's rules. Returns who was removed. */
  relabel(jid: string, choices: SecurityChoices): Promise<{ room: RoomView; removed: string[] }>;
  /** XEP-0045 §8.2; returns the kicked occupant's bare JID. */
  kick(jid: string, nick: string, reason?: string): Promise<{ occupant: string }>;
  destroy(jid: string, reason?: string): Promise<{ occupants: number }>;
}

/** Maps the rule's stanza error to the operator's error; anything else passes through. */
function asOperatorError(error: unknown): unknown {
  if (!(error instanceof StanzaErrorException)) return error;
  const text = error.spec.text ?? error.spec.condition;
  if (error.spec.type === "wait") return new MucOperatorUnavailableError(text);
  return new MucOperatorRefusedError(text);
}

export function mucOperator(ctx: MucContext): MucOperator {
  const view = (room: Room): RoomView => ({
    jid: room.jid,
    name: room.config.name,
    description: room.config.description,
    persistent: room.config.persistent,
    public: room.config.public,
    membersOnly: room.config.membersOnly,
    label: room.security.label,
    clearance: room.security.clearance,
    defaultLabel: room.security.defaultLabel,
    owners: room.owners().sort(),
    occupants: [...room.occupants.values()]
      .map((o) => ({
        nick: o.nick,
        jid: o.jid,
        role: o.role,
        affiliation: o.affiliation,
        clearance: o.clearance,
        joinedAt: o.joinedAt,
      }))
      .sort((a, b) => a.nick.localeCompare(b.nick)),
    locked: room.locked,
    createdAt: room.createdAt,
  });
  /** The room by JID (normalised as the routing does); never a destroyed one. */
  const find = (jid: string): Room => {
    const parsed = parseJid(jid);
    const room = parsed && !parsed.resource ? ctx.rooms.get(bareJid(parsed)) : undefined;
    if (!room || room.destroyed) throw new MucRoomNotFoundError();
    return room;
  };
  /** An operator-supplied text (a name, a reason) bounded like an occupant's status. */
  const bounded = (what: string, text: string | undefined): string | undefined => {
    if (text === undefined || text === "") return undefined;
    if (!textFits(text, ctx.component.limits.status))
      throw new MucOperatorRefusedError(`${what} too long (limit ${ctx.component.limits.status} bytes)`);
    return text;
  };
  /** The security settings chosen, checked by the owner's rules with the operator as submitter. */
  const security = async (current: Clearance | undefined, choices: SecurityChoices) => {
    const service = await readServiceBound(ctx);
    if (service.status === "unknown")
      throw new MucOperatorUnavailableError("the service's clearance cannot be determined right now");
    try {
      return readSecurityChoices(ctx, current, choices, SERVICE_OPERATOR, service);
    } catch (error) {
      throw asOperatorError(error);
    }
  };
  return {
    rooms: () =>
      [...ctx.rooms.values()]
        .filter((r) => !r.destroyed)
        .map(view)
        .sort((a, b) => a.jid.localeCompare(b.jid)),
    room: (jid) => view(find(jid)),

    async create(request) {
      const text = request.room.includes("@") ? request.room : `${request.room}@${ctx.settings.domain}`;
      const parsed = parseJid(text);
      if (!parsed || !parsed.local || parsed.resource || parsed.domain !== ctx.settings.domain)
        throw new MucOperatorRefusedError(`the room must be a JID localpart@${ctx.settings.domain}`);
      const jid = bareJid(parsed);
      if (ctx.unreadableRooms.has(jid))
        throw new MucRoomExistsError("a stored room by that JID exists whose settings cannot be read");
      const existing = ctx.rooms.get(jid);
      if (existing && !existing.destroyed) throw new MucRoomExistsError();
      let stored: unknown;
      try {
        stored = await ctx.store.getRoom(jid);
      } catch {
        throw new MucOperatorUnavailableError("the store cannot be read right now");
      }
      if (stored && !ctx.rooms.has(jid)) throw new MucRoomExistsError("a stored room by that JID exists");
      const name = bounded("the name", request.name) ?? parsed.local;
      if (!request.security.label && !request.security.customLabel)
        throw new MucOperatorRefusedError("a new room needs a label");
      const chosen = await security(ctx.settings.defaultRoomClearance, request.security);
      const config: RoomConfig = {
        ...ctx.settings.roomDefaults,
        name,
        persistent: request.persistent ?? true,
        public: request.public ?? ctx.settings.roomDefaults.public,
        membersOnly: request.membersOnly ?? ctx.settings.roomDefaults.membersOnly,
      };
      const room = new Room(
        jid,
        config,
        {
          label: undefined,
          clearance: ctx.settings.defaultRoomClearance,
          defaultLabel: ctx.settings.defaultMessageLabel,
          raw: {},
        },
        ctx.budgets,
      );
      applySecurity(ctx, room, chosen); // no occupants yet: nobody to take out
      const owners: string[] = [];
      for (const owner of request.owners ?? []) {
        const bare = parseJid(owner);
        if (!bare || bare.resource) throw new MucOperatorRefusedError("an owner must be a bare JID");
        owners.push(bareJid(bare));
      }
      for (const owner of owners) {
        try {
          await requireClearedGrantee(ctx, room, owner, "owner");
        } catch (error) {
          throw asOperatorError(error);
        }
        room.setAffiliation(owner, "owner");
      }
      // Decided again now: another request (a join, the operator) may have created it meanwhile.
      const now = ctx.rooms.get(jid);
      if ((now && !now.destroyed) || ctx.unreadableRooms.has(jid)) throw new MucRoomExistsError();
      ctx.rooms.set(jid, room);
      await ctx.saveRoom(room);
      ctx.logger.info({ room: jid }, "room created by the service operator");
      return view(room);
    },

    async relabel(jid, choices) {
      const room = find(jid);
      if (!choices.label && !choices.customLabel)
        throw new MucOperatorRefusedError("name the new room label");
      const chosen = await security(room.security.clearance, choices);
      if (find(jid) !== room) throw new MucRoomNotFoundError(); // destroyed while the bound was read
      const before = new Set(room.occupants.keys());
      // The owner's code path: the label takes effect and the uncovered leave before any await.
      const removals = applySecurity(ctx, room, chosen);
      const removed = [...before].filter((nick) => room.occupants.get(nick) === undefined);
      if (removals.length > 0) await ctx.send(removals);
      await ctx.saveRoom(room);
      if (ctx.rooms.get(room.jid) === room) await notifyConfigChange(ctx, room);
      return { room: view(room), removed };
    },

    async kick(jid, nick, reason) {
      const room = find(jid);
      const text = bounded("the reason", reason);
      const occupant = room.occupants.get(nick);
      if (!occupant) throw new MucOperatorRefusedError("no occupant has that nickname");
      // XEP-0045 §8.2: role none, status 307; no <actor/> (security/service-operator.ts).
      await removeOccupant(ctx, room, occupant, { statuses: [307], reason: text });
      return { occupant: occupant.bare };
    },

    async destroy(jid, reason) {
      const room = find(jid);
      const text = bounded("the reason", reason);
      const occupants = room.occupants.size;
      await destroyRoom(ctx, room, text, undefined);
      return { occupants };
    },
  };
}
