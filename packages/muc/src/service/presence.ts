// Presence to a room (XEP-0045 §7.2 entering, §7.6 nick change, §7.7 status change, §7.14 exit).
// Presence never carries a label (XEP-0258 §"Use in Presence"): one that does is refused with
// bad-request and not echoed. Entering is refused (forbidden) unless the joiner's clearance grants
// the room label — and the location of its session (security/occupant-location.ts); when the
// clearance cannot be determined now, the join is refused with `wait`.
import { bareJid, isElement, parseJid, serialise, type Element } from "@cordon/component";
import { NS_MUC, NS_MUC_USER, NS_SEC_LABEL } from "../namespaces.js";
import type { Room } from "../room/room.js";
import { defaultRole, type Occupant } from "../room/occupant.js";
import { readHistoryRequest } from "../room/history.js";
import type { MucContext } from "./context.js";
import { attr, occupantPresence, occupantPresenceParts, presencePayloadFor } from "./stanzas.js";
import { itemFor } from "./visibility.js";
import { occupantIdFor } from "./occupant-id.js";
import { historyStanzas } from "./history-replay.js";
import { newRoom } from "./room-factory.js";
import { ownString } from "../room/own-string.js";
import { subjectStanza } from "./subject.js";
import { refusalError, unknownClearance } from "@cordon/rules";
import { nestedContent } from "../security/nested-content.js";
import { readServiceBound, serviceGrants } from "../security/service-clearance.js";
import { locateSession, locationGrants } from "../security/occupant-location.js";
import { DEFAULT_ROOMS_CREATED_PER_USER } from "./context.js";
import type { StanzaErrorSpec } from "@cordon/component";

const MAX_NICK_CHARS = 64;
/** Reads of a joiner's clearance while change notifications keep overtaking them (then unknown). */
const MAX_JOIN_READS = 3;

/** Entry point for every presence addressed to room@service[/nick]. */
export async function onRoomPresence(
  ctx: MucContext,
  stanza: Element,
  roomJid: string,
  nick: string,
): Promise<void> {
  const from = stanza.attrs.from ?? "";
  if (stanza.attrs.type === "error") {
    // XEP-0045 §18.1: a bounce from an occupant's client removes it (status 333).
    const room = ctx.rooms.get(roomJid);
    const occupant = room?.byJid.get(from);
    if (room && occupant)
      await removeOccupant(ctx, room, occupant, {
        statuses: [333],
        reason: "Your client bounced a stanza",
        ours: true,
      });
    return;
  }
  if (stanza.getChild("securitylabel", NS_SEC_LABEL)) {
    await ctx.refuse(stanza, {
      condition: "bad-request",
      type: "modify",
      text: "presence must not carry a security label (XEP-0258)",
    });
    return;
  }
  const room = ctx.rooms.get(roomJid);
  const occupant = room?.byJid.get(from);
  if (stanza.attrs.type === "unavailable") {
    if (room && occupant)
      await removeOccupant(ctx, room, occupant, {
        statuses: [],
        reason: stanza.getChildText("status") ?? undefined,
        voluntary: true,
      });
    return;
  }
  if (stanza.attrs.type !== undefined) return; // subscription presence types are not for rooms
  // The payload is reflected to every occupant: a label or a stanza wrapped in it would reach them
  // unchecked, so it is refused like a labelled presence (XEP-0258 §"Use in Presence").
  const nested = nestedContent(stanza);
  if (nested) {
    await ctx.refuse(stanza, refusalError(nested));
    return;
  }
  if (!nick) {
    await ctx.refuse(stanza, { condition: "jid-malformed", type: "modify", text: "a nickname is required" });
    return;
  }
  if (room && occupant) {
    if (occupant.nick === nick) await updatePresence(ctx, room, occupant, stanza);
    else await changeNick(ctx, room, occupant, stanza, nick);
    return;
  }
  await join(ctx, stanza, roomJid, room, nick);
}

/** The presence payload occupants see: everything but MUC elements (show, status, caps...). */
function presencePayload(stanza: Element): string {
  return stanza.children
    .filter(isElement)
    .filter((c) => c.attrs.xmlns !== NS_MUC && c.attrs.xmlns !== NS_MUC_USER && c.name !== "occupant-id")
    .map((c) => serialise(c))
    .join("");
}

/**
 * Whether a presence payload may be kept (room/occupant-budget.ts): the error when it is larger
 * than one occupant may keep, or when every occupant's together would pass the service's limit.
 * The errors carry our text only, never the payload.
 */
function presenceRefusal(ctx: MucContext, payload: string, previous?: string): StanzaErrorSpec | undefined {
  const occupants = ctx.budgets.occupants;
  const refusal = occupants.checkPresence(payload, previous);
  if (refusal === "too-large")
    return {
      condition: "policy-violation",
      type: "modify",
      text: `presence too large: at most ${occupants.occupantBytes / 2} characters of status, caps and other payload`,
    };
  if (refusal === "full")
    return { condition: "resource-constraint", type: "wait", text: "the service is full; try again later" };
  return undefined;
}

/** Rooms `bare` created here that still exist (the per-user quota). */
function roomsCreatedBy(ctx: MucContext, bare: string): number {
  let n = 0;
  for (const room of ctx.rooms.values()) if (room.creator === bare && !room.destroyed) n++;
  return n;
}

/** A usable nickname: non-empty, bounded, no control characters, no surrounding spaces. */
function validNick(nick: string): boolean {
  if (nick.length === 0 || [...nick].length > MAX_NICK_CHARS || nick.trim() !== nick) return false;
  for (const ch of nick) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

async function join(
  ctx: MucContext,
  stanza: Element,
  roomJid: string,
  existing: Room | undefined,
  nick: string,
): Promise<void> {
  const from = stanza.attrs.from ?? "";
  const jid = parseJid(from);
  if (!jid || !jid.resource) {
    await ctx.refuse(stanza, { condition: "jid-malformed", type: "modify" });
    return;
  }
  if (!validNick(nick)) {
    await ctx.refuse(stanza, { condition: "jid-malformed", type: "modify", text: "invalid nickname" });
    return;
  }
  const bare = bareJid(jid);
  let room = existing;
  let created = false;
  const payload = presencePayload(stanza);
  const quota = (): StanzaErrorSpec | undefined => {
    const big = presenceRefusal(ctx, payload);
    if (big) return big;
    if (!ctx.budgets.occupants.mayEnter(bare))
      return {
        condition: "not-allowed",
        type: "cancel",
        text: `you are in as many rooms as you may be (${ctx.budgets.occupants.roomsPerUser})`,
      };
    return undefined;
  };
  const createQuota = ctx.settings.limits?.roomsCreatedPerUser ?? DEFAULT_ROOMS_CREATED_PER_USER;
  const refuseQuota = () =>
    ctx.refuse(stanza, {
      condition: "not-allowed",
      type: "cancel",
      text: `you have created as many rooms as you may (${createQuota})`,
    });
  const overQuota = quota();
  if (overQuota) return void (await ctx.refuse(stanza, overQuota));
  if (room?.destroyed) room = undefined;
  // XEP-0045 §10.1.1: a locked room does not exist for anyone but its owner.
  const refuseLocked = () =>
    ctx.refuse(stanza, {
      condition: "item-not-found",
      type: "cancel",
      text: "the room is locked until its owner configures it",
    });
  const refuseCreate = () =>
    ctx.refuse(stanza, { condition: "not-allowed", type: "cancel", text: "you may not create rooms here" });
  const refuseUnreadable = () =>
    ctx.refuse(stanza, {
      condition: "internal-server-error",
      type: "wait",
      text: "the room's security settings cannot be read right now",
    });
  if (ctx.unreadableRooms.has(roomJid)) return void (await refuseUnreadable());
  if (!room && !mayCreate(ctx, bare, jid.domain)) return void (await refuseCreate());
  if (!room && roomsCreatedBy(ctx, bare) >= createQuota) return void (await refuseQuota());
  if (room?.locked && room.affiliationOf(bare) !== "owner") return void (await refuseLocked());

  // The client's features decide FLOT from the very first message it receives; asking can take up
  // to capsTimeoutMs. The clearance is read after that wait, just before the occupant is added: a
  // clearance lowered meanwhile would otherwise admit the joiner on the old one, and the change
  // notification, finding no occupant yet, would not remove it (XEP-0258 §"Use in Group Chat").
  const labelAware = await ctx.awareness.discover(from, `${roomJid}/${nick}`, stanza);
  // Where the joining session is (the guard's client-location rule, security/occupant-location.ts),
  // asked of its server once the client answered — not beside the disco#info: Prosody's component
  // link answered the two in separate small writes, the second held ~40 ms until the first was
  // acknowledged (Nagle against delayed ACKs: every join took ~45 ms instead of ~4; e2e
  // muc-location M5). In turn it costs one in-process round trip (packages/muc/README.md).
  const location = await locateSession(ctx, from, jid.domain);
  // Issue 15: an answer older than the latest notification about the joiner is not acted on. The
  // generation is kept from before the read; read again while notifications overtake it. The
  // service clearance, which bounds the history replayed (history-replay.ts), is read with it: a
  // service notification overtakes both.
  let since = ctx.clearances.generation;
  let service = await readServiceBound(ctx);
  let clearance = await ctx.clearances.lookup(bare);
  for (let reads = 1; ctx.clearances.overtaken(since, bare); reads++) {
    if (reads >= MAX_JOIN_READS) {
      clearance = unknownClearance("clearances changed during every read");
      break;
    }
    since = ctx.clearances.generation;
    service = await readServiceBound(ctx);
    clearance = await ctx.clearances.lookup(bare);
  }
  // Re-read the room: another join may have created it while we waited.
  room = ctx.rooms.get(roomJid);
  if (room?.destroyed) room = undefined;
  if (room?.byJid.has(from)) return; // a duplicate join raced this one; the first one answered
  // Decided again on the room as it is now: a concurrent join may have created it (locked), or it
  // may have closed, while this one waited.
  if (ctx.unreadableRooms.has(roomJid)) return void (await refuseUnreadable());
  // The quotas again: other joins may have used them while this one waited.
  const overQuotaNow = quota();
  if (overQuotaNow) return void (await ctx.refuse(stanza, overQuotaNow));
  if (!room) {
    if (!mayCreate(ctx, bare, jid.domain)) return void (await refuseCreate());
    if (roomsCreatedBy(ctx, bare) >= createQuota) return void (await refuseQuota());
    room = newRoom(ctx, roomJid, bare);
    created = true;
  } else if (room.locked && room.affiliationOf(bare) !== "owner") {
    return void (await refuseLocked());
  }
  const affiliation = room.affiliationOf(bare);
  const muc = stanza.getChild("x", NS_MUC);
  const refuse = (
    condition: Parameters<MucContext["refuse"]>[1]["condition"],
    type: "cancel" | "auth" | "modify" | "wait",
    text?: string,
  ) => ctx.refuse(stanza, { condition, type, ...(text ? { text } : {}) });

  if (clearance.status === "unknown") {
    if (created) ctx.rooms.delete(roomJid);
    ctx.observer?.decision("join", false, "clearance-unknown");
    ctx.observer?.audit?.({
      action: "join",
      granted: false,
      reason: "clearance-unknown",
      room: roomJid,
      actor: bare,
    });
    await refuse(
      "internal-server-error",
      "wait",
      "your clearance cannot be determined right now; try again later",
    );
    return;
  }
  // The room label as the joiner's policy says it (an equivalent policy's user is judged on the
  // translation, @cordon/rules translation.ts).
  const grant = ctx.labels.translations.decide(
    room.security.label,
    clearance.status === "known" ? clearance.clearance : undefined,
  );
  ctx.observer?.decision("join", grant.granted, grant.reason);
  ctx.observer?.audit?.({
    action: "join",
    granted: grant.granted,
    reason: grant.reason,
    room: roomJid,
    actor: bare,
  });
  if (!grant.granted) {
    if (created) ctx.rooms.delete(roomJid);
    await refuse("forbidden", "auth", "your clearance does not cover this room's label");
    return;
  }
  // The room label where the session is (security/occupant-location.ts): everything in the room —
  // its subject, the occupants' status texts — is at least at its label, so a session whose
  // location does not grant it (or whose address could not be learnt: the unknown location grants
  // nothing labelled) is refused as a clearance that does not cover it is.
  if (!room.security.label || !locationGrants(ctx, { location }, room.security.label)) {
    if (created) ctx.rooms.delete(roomJid);
    const reason = location.clearance ? "location" : "location-unknown";
    ctx.observer?.decision("join", false, reason);
    ctx.observer?.audit?.({ action: "join", granted: false, reason, room: roomJid, actor: bare });
    await refuse(
      "forbidden",
      "auth",
      location.clearance
        ? "where you are connected from is not cleared for this room's label"
        : "where you are connected from is not known, and nothing labelled reaches an unknown location",
    );
    return;
  }
  // The service clearance bounds every room label (security/service-clearance.ts): a room the bound
  // no longer covers (the operator lowered it) is not entered — its subject and occupants' status
  // texts are room content at its label, which the service may no longer hand out (adversarial
  // review, issue 15). Unknown: nothing can be decided (wait).
  if (service.status === "unknown") {
    if (created) ctx.rooms.delete(roomJid);
    ctx.observer?.decision("join", false, "service-clearance-unknown");
    await refuse("internal-server-error", "wait", "the service's clearance cannot be determined right now");
    return;
  }
  if (!room.security.label || !serviceGrants(ctx.labels, service, room.security.label)) {
    if (created) ctx.rooms.delete(roomJid);
    ctx.observer?.decision("join", false, "service-clearance");
    await refuse("forbidden", "auth", "this room's label is not permitted on this service");
    return;
  }
  if (!created) {
    if (affiliation === "outcast")
      return void (await refuse("forbidden", "auth", "you are banned from this room"));
    if (room.config.membersOnly && affiliation === "none")
      return void (await refuse("registration-required", "auth", "this room is members-only"));
    if (
      room.config.password &&
      muc?.getChildText("password") !== room.config.password &&
      affiliation !== "owner"
    ) {
      return void (await refuse("not-authorized", "auth", "a password is required"));
    }
    const holder = room.occupants.get(nick);
    if (holder) return void (await refuse("conflict", "cancel", "that nickname is in use"));
    if (
      room.config.maxUsers > 0 &&
      room.size >= room.config.maxUsers &&
      affiliation !== "owner" &&
      affiliation !== "admin"
    ) {
      return void (await refuse("service-unavailable", "wait", "the room is full"));
    }
  }

  // Kept for as long as the occupant stays: copies that do not hold the stanza's network chunk
  // (room/own-string.ts).
  const occupant: Occupant = {
    nick: ownString(nick),
    jid: ownString(from),
    bare: ownString(bare),
    role: defaultRole(room.affiliationOf(bare), room.config.moderated),
    affiliation: room.affiliationOf(bare),
    occupantId: occupantIdFor(ctx.settings.occupantIdSecret, roomJid, bare),
    clearance,
    location,
    labelAware,
    presenceXml: payload,
    joinedAt: ctx.now(),
  };
  const out: string[] = [];
  // XEP-0045 §7.2.3: existing occupants' presence to the joiner first...
  for (const other of room.occupants.values()) {
    out.push(
      occupantPresence({
        roomJid,
        occupant: other,
        to: from,
        item: itemFor(room, other, occupant),
        payload: other.presenceXml,
      }),
    );
  }
  room.add(occupant);
  // Re-checked now that the occupant is in the room (issue 15): from here on a notification finds
  // it and re-reads its clearance; one that came before, while the joiner was not yet an occupant,
  // would have found nobody to update — then the answer is stale and the join is not completed.
  if (ctx.clearances.overtaken(since, bare)) {
    room.remove(occupant);
    if (created) ctx.rooms.delete(roomJid);
    ctx.observer?.decision("join", false, "clearance-unknown");
    await refuse("internal-server-error", "wait", "your clearance changed while you joined; try again");
    return;
  }
  room.forgetInvitation(bare);
  // ...then the self-presence with 110 (and 100 non-anonymous, 201 created) — §7.2.4 and §10.1.1 —
  // which ends the occupant list: §7.2.3 orders only what the joiner receives (the existing
  // occupants first, its own presence last), so it goes before the joiner's presence to the
  // others, which the server would otherwise route first (issue 19: in a room of 1,000 the join
  // took twice as long)...
  const statuses = [110];
  if (room.config.whois === "anyone") statuses.push(100);
  if (created) statuses.push(201);
  out.push(
    occupantPresence({
      roomJid,
      occupant,
      to: from,
      item: itemFor(room, occupant, occupant),
      payload: occupant.presenceXml,
      statuses,
      ...(stanza.attrs.id ? { id: stanza.attrs.id } : {}),
    }),
  );
  // ...then the history the joiner is cleared for (§7.2.15, XEP-0258 §"Room History")...
  const historyRequest = readHistoryRequest(muc?.getChild("history")?.attrs ?? {});
  out.push(...historyStanzas(ctx, room, occupant, historyRequest, service));
  // ...and the subject, always, empty when there is none (§7.2.16)...
  out.push(subjectStanza(room, from));
  // ...then the joiner's presence to everyone else (§7.2.3), in the same batch: nothing the joiner
  // sends once in can reach the others before it. It differs only in whether the real JID is shown
  // (§7.2.3) and whether the status payload is (not to occupants whose clearance is unknown), so
  // each kind is rendered once and addressed per copy.
  const kinds: ([string, string] | undefined)[] = [];
  for (const other of room.occupants.values()) {
    if (other === occupant) continue;
    const item = itemFor(room, occupant, other);
    const payload = presencePayloadFor(other, occupant);
    const kind = (item.jid === undefined ? 0 : 1) + (payload === "" ? 0 : 2);
    const [head, tail] = (kinds[kind] ??= occupantPresenceParts({ roomJid, occupant, item, payload }));
    out.push(head + (other.jidAttr ??= attr(other.jid)) + tail);
  }
  await ctx.send(out);
  if (created) ctx.logger.info({ room: roomJid }, "room created");
}

function mayCreate(ctx: MucContext, bare: string, domain: string): boolean {
  const rule = ctx.settings.createRooms;
  if (rule === "anyone") return true;
  if (rule === "local") return ctx.settings.localDomains.includes(domain);
  return rule.includes(bare);
}

async function updatePresence(
  ctx: MucContext,
  room: Room,
  occupant: Occupant,
  stanza: Element,
): Promise<void> {
  const payload = presencePayload(stanza);
  const refusal = presenceRefusal(ctx, payload, occupant.presenceXml);
  if (refusal) return void (await ctx.refuse(stanza, refusal));
  room.setPresence(occupant, payload);
  const out: string[] = [];
  for (const other of room.occupants.values()) {
    out.push(
      occupantPresence({
        roomJid: room.jid,
        occupant,
        to: other.jid,
        item: itemFor(room, occupant, other),
        payload: presencePayloadFor(other, occupant),
        ...(other === occupant ? { statuses: [110] } : {}),
      }),
    );
  }
  await ctx.send(out);
}

/** XEP-0045 §7.6: unavailable with 303 and the new nick, then available under the new nick. */
async function changeNick(
  ctx: MucContext,
  room: Room,
  occupant: Occupant,
  stanza: Element,
  nick: string,
): Promise<void> {
  if (!validNick(nick))
    return void (await ctx.refuse(stanza, {
      condition: "jid-malformed",
      type: "modify",
      text: "invalid nickname",
    }));
  if (room.occupants.has(nick))
    return void (await ctx.refuse(stanza, {
      condition: "conflict",
      type: "cancel",
      text: "that nickname is in use",
    }));
  const payload = presencePayload(stanza);
  const refusal = presenceRefusal(ctx, payload, occupant.presenceXml);
  if (refusal) return void (await ctx.refuse(stanza, refusal));
  const out: string[] = [];
  for (const other of room.occupants.values()) {
    const self = other === occupant;
    out.push(
      occupantPresence({
        roomJid: room.jid,
        occupant,
        to: other.jid,
        type: "unavailable",
        item: itemFor(room, occupant, other, { nick }),
        statuses: self ? [303, 110] : [303],
      }),
    );
  }
  room.rename(occupant, nick);
  room.setPresence(occupant, payload);
  for (const other of room.occupants.values()) {
    const self = other === occupant;
    out.push(
      occupantPresence({
        roomJid: room.jid,
        occupant,
        to: other.jid,
        item: itemFor(room, occupant, other),
        payload: presencePayloadFor(other, occupant),
        ...(self ? { statuses: [110] } : {}),
      }),
    );
  }
  await ctx.send(out);
}

export interface RemovalOptions {
  statuses: number[];
  reason?: string | undefined;
  actor?: string;
  /** Left by their own presence (§7.14), not removed. */
  voluntary?: boolean;
  /**
   * The reason is the service's own text (a clearance change, a bounce): the removed occupant gets
   * it whatever its clearance. Otherwise the reason is a user's (a moderator's) and is room content.
   */
  ours?: boolean;
  /** New affiliation to show (e.g. outcast for a ban). */
  affiliation?: Occupant["affiliation"];
}

/** Removes an occupant and tells everyone, including the occupant (with 110). */
export async function removeOccupant(
  ctx: MucContext,
  room: Room,
  occupant: Occupant,
  options: RemovalOptions,
): Promise<void> {
  const out = takeOut(ctx, room, occupant, options);
  if (out.length > 0) await ctx.send(out);
}

/**
 * Removes an occupant at once (a temporary room left empty is closed) and returns the presences
 * that tell everyone, without sending them: a caller removing one user from several rooms removes
 * it from all of them before it writes anything (issue 15: never a room still delivering to them
 * while the removal from another waits for a slow link).
 */
export function takeOut(ctx: MucContext, room: Room, occupant: Occupant, options: RemovalOptions): string[] {
  if (room.byJid.get(occupant.jid) !== occupant) return [];
  const out: string[] = [];
  const shown = {
    ...occupant,
    role: "none" as const,
    ...(options.affiliation ? { affiliation: options.affiliation } : {}),
  };
  for (const other of room.occupants.values()) {
    const self = other === occupant;
    out.push(
      occupantPresence({
        roomJid: room.jid,
        occupant: shown,
        to: other.jid,
        type: "unavailable",
        item: itemFor(room, shown, other === occupant ? shown : other, {
          ...(options.actor ? { actor: options.actor } : {}),
          // A moderator's reason is room content: not for anyone whose clearance is unknown now
          // (the removed occupant included); the service's own text reaches the one it removes.
          ...(options.reason &&
          !options.voluntary &&
          (other.clearance.status === "known" || (self && options.ours === true))
            ? { reason: options.reason }
            : {}),
        }),
        statuses: self ? [...options.statuses, 110] : options.statuses,
      }),
    );
  }
  room.remove(occupant);
  if (room.size === 0 && !room.config.persistent && ctx.rooms.get(room.jid) === room) {
    room.releaseHistory();
    ctx.rooms.delete(room.jid);
    ctx.logger.debug({ room: room.jid }, "temporary room closed");
  }
  return out;
}
