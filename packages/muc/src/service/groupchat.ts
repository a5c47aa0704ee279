// Messages to the room (XEP-0045 §7.4): reflected to every occupant whose clearance grants the label
// (XEP-0258 §"Sending Messages"), the sender included, keeping the message id, with the room's
// XEP-0359 stanza-id and the sender's XEP-0421 occupant-id; stored in history with the label.
import { ownString } from "../room/own-string.js";
import { isElement, serialisedFits, serialise, type Element } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { Occupant } from "../room/occupant.js";
import type { MucContext } from "./context.js";
import { checkMessage } from "./message-gate.js";
import { deliverableLabel } from "./delivery.js";
import { copyKind, messageCopies, type MessageCopies } from "./message-render.js";
import { keyOf, type CopyGroup } from "./multicast.js";
import { sameLabel, type Label } from "@cordon/policy";
import { newStanzaId } from "./stanza-id.js";
import { changeSubject } from "./subject.js";
import { attr } from "./stanzas.js";
import { NS_SEC_LABEL, NS_SID, NS_OCCUPANT_ID, NS_MUC_USER, NS_DELAY, NS_XHTML_IM } from "../namespaces.js";
import { persistHistory } from "./persistence.js";
import { checkReferences, mayReadReferenced } from "../security/message-references.js";
import { readServiceBound } from "../security/service-clearance.js";

/**
 * Children never reflected as they came: labels and ids are the room's to set; bodies are rendered
 * per recipient, and so is text a FLOT recipient would see without the marking (a <subject/> that
 * is not a subject change, an XEP-0071 XHTML-IM body): see `richContent`.
 */
function reflectedExtra(stanza: Element): string {
  let s = "";
  for (const child of stanza.children) {
    if (!isElement(child)) continue;
    const ns = child.attrs.xmlns;
    if (child.name === "body" || child.name === "subject") continue;
    if (child.name === "html" && ns === NS_XHTML_IM) continue;
    if (
      ns === NS_SEC_LABEL ||
      ns === NS_SID ||
      ns === NS_OCCUPANT_ID ||
      ns === NS_MUC_USER ||
      ns === NS_DELAY
    )
      continue;
    s += serialise(child);
  }
  return s;
}

/** Text shown beside the body (the message's subject, XHTML-IM): only for label-aware recipients. */
function richContent(stanza: Element): string | undefined {
  let s = "";
  for (const child of stanza.children) {
    if (!isElement(child)) continue;
    const ns = child.attrs.xmlns;
    if (
      (child.name === "subject" && (ns === undefined || ns === "jabber:client")) ||
      (child.name === "html" && ns === NS_XHTML_IM)
    )
      s += serialise(child);
  }
  return s || undefined;
}

export async function onGroupchat(
  ctx: MucContext,
  room: Room,
  sender: Occupant,
  stanza: Element,
): Promise<void> {
  const hasBody = stanza.getChild("body") !== undefined;
  // XEP-0045 §8.1: only a <subject/> without <body/> and without <thread/> changes the subject.
  const isSubjectChange =
    stanza.getChild("subject") !== undefined && !hasBody && stanza.getChild("thread") === undefined;
  if (isSubjectChange) return changeSubject(ctx, room, sender, stanza);
  if (sender.role === "visitor" || sender.role === "none") {
    return ctx.refuse(stanza, {
      condition: "forbidden",
      type: "auth",
      text: "you have no voice in this room",
    });
  }
  const service = await readServiceBound(ctx);
  // Decided on the room as it is now: the sender may have been removed while the bound was read.
  if (room.byJid.get(sender.jid) !== sender)
    return ctx.refuse(stanza, {
      condition: "not-acceptable",
      type: "modify",
      text: "you are not in this room",
    });
  const gate = checkMessage(ctx, room, sender, stanza, service);
  ctx.observer?.decision("groupchat", gate.ok, gate.ok ? "granted" : gate.reason);
  if (!gate.ok) {
    ctx.observer?.audit?.({
      action: "groupchat",
      granted: false,
      reason: gate.reason,
      room: room.jid,
      actor: sender.bare,
    });
    ctx.logger.info({ room: room.jid, reason: gate.reason }, "groupchat refused");
    return ctx.refuse(stanza, gate.error);
  }
  // A message that refers to another: its label must cover that one's, and only those who may
  // read both receive it (security/message-references.ts).
  const refs = checkReferences(ctx, room, sender, stanza, gate.label);
  if (!refs.ok) {
    ctx.logger.info({ room: room.jid, reason: refs.reason }, "groupchat refused");
    return ctx.refuse(stanza, refs.error);
  }
  const body = stanza.getChildText("body") ?? undefined;
  const extra = reflectedExtra(stanza);
  const rich = richContent(stanza);
  const sid = newStanzaId(); // XEP-0359: unique and unpredictable; 16 characters
  const message = {
    type: "groupchat" as const,
    fromNick: sender.nick,
    id: stanza.attrs.id,
    body,
    extra,
    rich,
    stanzaId: sid,
    occupantId: sender.occupantId,
  };
  const copies = messageCopies(ctx, room, message);
  // Every occupant decided on its own (XEP-0258: only those cleared for the label receive it).
  const recipients: Occupant[] = [];
  const labels: Label[] = [];
  const to: string[] = [];
  const payloads: string[] = [];
  for (const occupant of room.occupants.values()) {
    const label = deliverableLabel(ctx, occupant, gate.label);
    if (!label || !mayReadReferenced(ctx, occupant, refs.labels)) continue;
    recipients.push(occupant);
    labels.push(label);
    to.push(occupant.jid);
    payloads.push(copies.payload(occupant, label));
  }
  if (!rendersWithin(ctx, copies.start, to, payloads)) {
    ctx.logger.warn({ room: room.jid }, "groupchat over the stanza size bound once rendered: refused");
    return ctx.refuse(stanza, {
      condition: "policy-violation",
      type: "modify",
      text: "message too large once rendered for the room",
    });
  }
  // Audited before anything of the message is kept or sent: an audit log that cannot record it
  // throws here (cordon start's process log, fail closed), and then nothing of it is delivered
  // or goes into the history.
  ctx.observer?.audit?.({
    action: "groupchat",
    granted: true,
    reason: "granted",
    room: room.jid,
    actor: sender.bare,
    marking: ctx.rendering.marking(gate.label), // not computed without an audit hook (optional call)
    delivered: recipients.length,
    withheld: room.occupants.size - recipients.length,
  });
  const labelXml = ctx.rendering.securityLabelXml(gate.label);
  room.references.add([sid, stanza.attrs.id], labelXml);
  if (room.config.historyLength > 0 && (body !== undefined || extra || rich !== undefined)) {
    // What the sender wrote is kept as own copies: a slice of the stanza would keep its whole
    // network chunk alive, which the history budget does not count (room/own-string.ts).
    const entry = {
      sid,
      id: stanza.attrs.id === undefined ? undefined : ownString(stanza.attrs.id),
      ts: ctx.now(),
      nick: sender.nick,
      occupantId: sender.occupantId,
      from: sender.jid,
      label: labelXml,
      body: body === undefined ? undefined : ownString(body),
      extra: ownString(extra),
      ...(rich !== undefined ? { rich: ownString(rich) } : {}),
      ...(refs.xml.length > 0 ? { refs: [...refs.xml] } : {}),
    };
    room.pushHistory(entry);
    // Not awaited: delivery does not wait for Redis; persistHistory logs its own failure.
    if (room.config.persistent) void persistHistory(ctx, room, entry);
  }
  ctx.observer?.fanout(recipients.length, room.occupants.size - recipients.length);
  if (ctx.multicast && recipients.length >= 2) {
    const same = sameDecision(ctx, gate.label, refs.labels);
    await ctx.send(
      multicastFanout(
        ctx,
        room,
        copies,
        recipients,
        labels,
        payloads,
        same,
        keyOf(room.jid, stanza.attrs.id),
      ),
    );
  } else await ctx.sendCopies({ head: copies.start, to, payload: payloads });
}

/**
 * The same decision as the fan-out's, taken again when a multicast chunk must go per copy. Made
 * here, apart, so that what the multicast book keeps (service/multicast.ts: this check, with each
 * stanza sent, until an error or its expiry) holds these values alone — a closure made inside the
 * fan-out held its whole scope: the stanza's payloads, views of the text the parser read (review
 * keep15).
 */
function sameDecision(
  ctx: MucContext,
  decided: Label,
  referenced: readonly Label[],
): (occupant: Occupant, label: Label) => boolean {
  return (occupant, label) => {
    const now = deliverableLabel(ctx, occupant, decided);
    return now !== undefined && sameLabel(now, label) && mayReadReferenced(ctx, occupant, referenced);
  };
}

/** A multicast group's check: the recipient still gets this kind of copy of this label (sameDecision). */
function groupCheck(
  room: Room,
  kind: ReturnType<typeof copyKind>,
  label: Label,
  same: (occupant: Occupant, label: Label) => boolean,
): (occupant: Occupant) => boolean {
  return (o) => copyKind(room, o) === kind && same(o, label);
}

/**
 * Issue 14: a copy over the size bound would close the stream; the bounds on input keep every copy
 * far below it, so this only catches what rendering made grow (a translated label, a marking).
 * Judged on an upper bound of each copy's length first (an escaped JID is at most 6 characters a
 * character), the copy itself only when that is not enough.
 */
function rendersWithin(
  ctx: MucContext,
  head: string,
  to: readonly string[],
  payloads: readonly string[],
): boolean {
  const limits = ctx.component.limits;
  for (let k = 0; k < to.length; k++) {
    const jid = to[k] as string;
    const payload = payloads[k] as string;
    if ((head.length + 8 + 6 * jid.length + payload.length) * 3 <= limits.maxStanzaBytes) continue;
    if (!serialisedFits(limits, `${head} to="${attr(jid)}">${payload}`)) return false;
  }
  return true;
}

/**
 * The stanzas of one message with XEP-0033 multicast on: one stanza per group of recipients
 * getting the same copy (service/multicast.ts). `same(occupant, label)` tells whether an occupant
 * would still get the copy of `label` (for a chunk the service refuses).
 */
function multicastFanout(
  ctx: MucContext,
  room: Room,
  copies: MessageCopies,
  recipients: readonly Occupant[],
  labels: readonly Label[],
  payloads: readonly string[],
  same: (occupant: Occupant, label: Label) => boolean,
  key: string,
): string[] {
  const multicast = ctx.multicast;
  if (!multicast) throw new TypeError("multicastFanout without multicast");
  // By label (as each recipient sees it) and payload: two labels whose copies read alike (a FLOT
  // marking shared by equivalent policies) stay apart, so a refused chunk is re-checked against
  // the label each of its recipients was sent.
  const groups = new Map<Label, Map<string, CopyGroup & { recipients: Occupant[] }>>();
  recipients.forEach((r, i) => {
    const label = labels[i] as Label;
    const payload = payloads[i] as string;
    let byPayload = groups.get(label);
    if (!byPayload) {
      byPayload = new Map();
      groups.set(label, byPayload);
    }
    let group = byPayload.get(payload);
    if (!group) {
      // (multicast.ts takes the copy after its `to` value: `">…</message>`.)
      group = {
        payload: `">${payload}`,
        recipients: [],
        check: groupCheck(room, copyKind(room, r), label, same),
      };
      byPayload.set(payload, group);
    }
    group.recipients.push(r);
  });
  const all = [...groups.values()].flatMap((byPayload) => [...byPayload.values()]);
  return multicast.fanout(room, copies.start, key, all, ctx.now()).stanzas;
}
