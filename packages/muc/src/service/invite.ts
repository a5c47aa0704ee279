// Mediated invitations (XEP-0045 §7.8.2) and declines (§7.8.3). Nobody is invited into what their
// clearance does not cover: the invitee's clearance must grant the room label, and a labelled
// invitation (XEP-0258 §"Invitations") must also be fit for the sender, the room and the invitee.
import { toBare, type Element } from "@cordon/component";
import type { Label } from "@cordon/policy";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { checkMessage } from "./message-gate.js";
import { readServiceBound } from "../security/service-clearance.js";
import { declineMessage, invitationMessage } from "./stanzas.js";
import { NS_SEC_LABEL } from "../namespaces.js";
import { flotText } from "@cordon/rules";
import { reachesAnySession } from "../security/occupant-location.js";

export async function onInvite(
  ctx: MucContext,
  room: Room,
  sender: Occupant,
  stanza: Element,
  invite: Element,
): Promise<void> {
  const invitee = toBare(invite.attrs.to);
  if (!invitee)
    return ctx.refuse(stanza, {
      condition: "jid-malformed",
      type: "modify",
      text: "the invitation names no valid JID",
    });
  if (!room.config.allowInvites && sender.role !== "moderator") {
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "auth",
      text: "only moderators may invite to this room",
    });
  }
  if (
    room.config.membersOnly &&
    sender.affiliation !== "owner" &&
    sender.affiliation !== "admin" &&
    !room.config.allowInvites
  ) {
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "auth",
      text: "only admins may invite to this members-only room",
    });
  }
  // Everything the decision waits for is read first, the invitee's clearance last; from then on
  // nothing is awaited until the invitation is written (adversarial review, issue 15: an invitee
  // lowered while the service clearance was read still got the reason and the room's password).
  const service = await readServiceBound(ctx);
  const clearance = await ctx.clearances.lookup(invitee);
  if (room.byJid.get(sender.jid) !== sender || room.destroyed)
    return ctx.refuse(stanza, {
      condition: "not-acceptable",
      type: "modify",
      text: "you are not in this room",
    });
  if (clearance.status === "unknown") {
    return ctx.refuse(stanza, {
      condition: "internal-server-error",
      type: "wait",
      text: "the invitee's clearance cannot be determined right now",
    });
  }
  const inviteeClearance = clearance.status === "known" ? clearance.clearance : undefined;
  if (!ctx.labels.grants(room.security.label, inviteeClearance)) {
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "cancel",
      text: "the invitee is not cleared for this room",
    });
  }
  // An invitation is a message (XEP-0258 §"Use in XMPP"): when it carries content — a label, or a
  // reason, whose effective label is then the room's default, as for an unlabelled groupchat — that
  // label must be fit for the sender, the room and the invitee.
  const labelled = stanza.getChild("securitylabel", NS_SEC_LABEL) !== undefined;
  const reason = invite.getChildText("reason");
  let labelXml = "";
  let shownReason = reason;
  let gateLabel: Label | undefined;
  if (labelled || reason) {
    const gate = checkMessage(ctx, room, sender, stanza, service);
    if (!gate.ok) return ctx.refuse(stanza, gate.error);
    gateLabel = gate.label;
    if (!ctx.labels.grants(gate.label, inviteeClearance)) {
      return ctx.refuse(stanza, {
        condition: "forbidden",
        type: "cancel",
        text: "the invitee is not cleared for this label",
      });
    }
    if (labelled) labelXml = ctx.rendering.securityLabelXml(gate.label);
    // The room does not know the invitee's client: the reason always carries the marking (FLOT,
    // XEP-0258 §5), so a label-unaware client never shows it unmarked.
    if (reason) shownReason = flotText(ctx.rendering.marking(gate.label), reason);
  }
  // The invitation names the room (at its label) and carries the reason at its own: it goes to the
  // invitee's bare JID, so the server picks the session, which nobody here can locate — the
  // guard's client-location rule (security/occupant-location.ts) allows it only when every
  // location grants both. A direct invitation (XEP-0249) goes through the server, whose guard
  // judges each of the invitee's sessions.
  if ([room.security.label, gateLabel].some((l) => l !== undefined && !reachesAnySession(ctx, invitee, l)))
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "cancel",
      text: "a mediated invitation may reach the invitee where this room or label is not cleared; send a direct invitation (XEP-0249)",
    });
  const member =
    room.config.membersOnly &&
    room.affiliationOf(invitee) === "none" &&
    (sender.affiliation === "owner" || sender.affiliation === "admin");
  if (member) room.setAffiliation(invitee, "member");
  const invitation = invitationMessage({
    room: room.jid,
    to: invitee,
    id: stanza.attrs.id,
    inviter: sender.jid,
    reason: shownReason,
    password: room.config.password,
    labelXml,
  });
  room.recordInvitation(invitee, sender.jid);
  await ctx.send([invitation]);
  if (member) await ctx.saveRoom(room);
}

/**
 * A decline goes to the occupant who invited the decliner, and only to them: the room relays
 * nothing to a JID the sender names (it would carry text, label stripped, to anyone). A decline
 * is not labelled; one that carries a label is refused without echo, as a labelled presence is.
 */
export async function onDecline(
  ctx: MucContext,
  room: Room,
  stanza: Element,
  decline: Element,
): Promise<void> {
  if (stanza.getChild("securitylabel", NS_SEC_LABEL)) {
    return ctx.refuse(stanza, {
      condition: "bad-request",
      type: "modify",
      text: "a decline must not carry a security label",
    });
  }
  const decliner = toBare(stanza.attrs.from);
  const inviter = decliner ? room.inviterOf(decliner) : undefined;
  if (!decliner || !inviter)
    return ctx.refuse(stanza, {
      condition: "item-not-found",
      type: "cancel",
      text: "no pending invitation to decline",
    });
  room.forgetInvitation(decliner);
  // The decliner's text reaches an occupant of the room: not one whose clearance is unknown now.
  const inviterNow = room.byJid.get(inviter);
  const reason =
    inviterNow && inviterNow.clearance.status !== "known" ? undefined : decline.getChildText("reason");
  await ctx.send([declineMessage(room.jid, inviter, decliner, reason)]);
}
