// Paths other than a plain labelled groupchat by which content or a label could reach someone it
// must not (XEP-0258 §"Use in XMPP" and §"Use in Group Chat"): payload wrapped below the top level,
// presence payloads, private-message payloads a label-unaware client shows instead of the FLOT
// body, the subject through disco#info, declines relayed to arbitrary JIDs, and a clearance
// lowered while a join waits for the client's features. Real handlers, real policy engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, type Element } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import { encodeBerClearance, labelMarking, type Clearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onPrivateMessage } from "../src/service/private-message.js";
import { onRoomPresence, removeOccupant } from "../src/service/presence.js";
import { onInvite, onDecline } from "../src/service/invite.js";
import { discoInfo } from "../src/service/disco.js";
import { changeSubject } from "../src/service/subject.js";
import { ClearanceBook } from "../src/security/clearance-book.js";
import { ClearanceReader } from "@cordon/rules";
import type { LabelAwareness } from "../src/service/label-awareness.js";
import type { CapturingContext } from "./muc-test-context.js";
import { registry, label, clearance, labelXml, ALL } from "./fixtures.js";
import { ROOM, person, roomWith, unclassifiedContext } from "./room-fixture.js";

const U = label("UNCLASSIFIED");
const TS = label("TOP SECRET");
const NS_FORWARD = "urn:xmpp:forward:0";
const NS_XHTML_IM = "http://jabber.org/protocol/xhtml-im";

function setup(config: Partial<RoomConfig> = {}): {
  ctx: CapturingContext;
  room: Room;
  hi: Occupant;
  lo: Occupant;
} {
  const ctx = unclassifiedContext();
  const hi = person("hi", clearance(ALL), true);
  const lo = person("lo", clearance(["UNCLASSIFIED"]), false);
  const room = roomWith(ctx, [hi, lo], config);
  return { ctx, room, hi, lo };
}

const sentTo = (ctx: CapturingContext, jid: string): Element[] =>
  ctx.sent.map(parseElement).filter((s) => s.attrs.to === jid);
const leaked = (ctx: CapturingContext, jid: string, secret: string) =>
  sentTo(ctx, jid).some((s) => s.toString().includes(secret));

test("groupchat: a forwarded message, a nested label or a nested stanza does not cross under the outer label", async () => {
  const payloads: [string, Element][] = [
    [
      "forwarded",
      xml(
        "forwarded",
        { xmlns: NS_FORWARD },
        xml("message", {}, xml("body", {}, "TS-SECRET-TEXT"), parseElement(labelXml(TS))),
      ),
    ],
    [
      "nested label",
      xml(
        "reference",
        { xmlns: "urn:example:x" },
        xml("note", {}, "TS-SECRET-TEXT"),
        parseElement(labelXml(TS)),
      ),
    ],
    [
      "nested message",
      xml("x", { xmlns: "urn:example:wrap" }, xml("message", {}, xml("body", {}, "TS-SECRET-TEXT"))),
    ],
  ];
  for (const [what, payload] of payloads) {
    const { ctx, room, hi, lo } = setup();
    await onGroupchat(
      ctx,
      room,
      hi,
      xml(
        "message",
        { from: hi.jid, to: ROOM, type: "groupchat", id: "g1" },
        xml("body", {}, "see below"),
        payload,
      ),
    );
    assert.equal(
      leaked(ctx, lo.jid, "TS-SECRET-TEXT"),
      false,
      `${what}: reached an UNCLASSIFIED-only occupant`,
    );
    assert.equal(room.history.length, 0, `${what}: kept in history`);
    assert.equal(ctx.refused.length, 1, `${what}: the sender is told`);
    assert.equal(ctx.refused[0]!.spec.condition, "bad-request");
  }
});

test("groupchat and PM: a prefixed <securitylabel/> is judged, never reflected with the sender's marking", async () => {
  const forged = `<sl:securitylabel xmlns:sl="urn:xmpp:sec-label:0"><sl:displaymarking>FORGED-MARKING</sl:displaymarking><sl:label>${parseElement(labelXml(U)).getChild("label")!.getChildElements()[0]!.toString()}</sl:label></sl:securitylabel>`;
  const { ctx, room, hi, lo } = setup();
  const stanza = parseElement(
    `<message xmlns="jabber:client" from="${hi.jid}" to="${ROOM}" type="groupchat" id="p1"><body>hello</body>${forged}</message>`,
  );
  await onGroupchat(ctx, room, hi, stanza);
  const pm = parseElement(
    `<message xmlns="jabber:client" from="${hi.jid}" to="${ROOM}/lo" type="chat" id="p2"><body>hello</body>${forged}</message>`,
  );
  await onPrivateMessage(ctx, room, hi, pm, "lo");
  for (const o of [hi, lo])
    assert.equal(
      leaked(ctx, o.jid, "FORGED-MARKING"),
      false,
      `the sender's display marking reached ${o.nick}`,
    );
});

test("groupchat: absurdly deep nesting is refused with an error, not a stack overflow", async () => {
  const { ctx, room, hi } = setup();
  let deep = xml("d", { xmlns: "urn:example:deep" });
  const top = deep;
  for (let i = 0; i < 50_000; i++) {
    const child = xml("d", {});
    deep.append(child);
    deep = child;
  }
  await onGroupchat(
    ctx,
    room,
    hi,
    xml("message", { from: hi.jid, to: ROOM, type: "groupchat", id: "d1" }, xml("body", {}, "x"), top),
  );
  assert.equal(ctx.refused.length, 1);
  assert.equal(ctx.refused[0]!.spec.condition, "bad-request");
});

test("PM: a label-unaware recipient is not sent an XHTML-IM body that would show without the FLOT marking", async () => {
  const { ctx, room, hi, lo } = setup();
  const stanza = xml(
    "message",
    { from: hi.jid, to: `${ROOM}/lo`, type: "chat", id: "x1" },
    xml("body", {}, "plain"),
    xml("html", { xmlns: NS_XHTML_IM }, xml("body", { xmlns: "http://www.w3.org/1999/xhtml" }, "rich")),
  );
  await onPrivateMessage(ctx, room, hi, stanza, "lo");
  const [copy] = sentTo(ctx, lo.jid);
  assert.ok(copy, "delivered");
  assert.ok(copy.getChildText("body")!.startsWith(labelMarking(U)), "FLOT body");
  assert.equal(
    copy.getChild("html", NS_XHTML_IM),
    undefined,
    "an unmarked XHTML-IM body went to a FLOT client",
  );
});

test("presence: a nested label or forwarded stanza in a presence is refused, not reflected to occupants", async () => {
  for (const payload of [
    xml("x", { xmlns: "urn:example:status" }, parseElement(labelXml(TS)), xml("note", {}, "TS-SECRET-TEXT")),
    xml("forwarded", { xmlns: NS_FORWARD }, xml("message", {}, xml("body", {}, "TS-SECRET-TEXT"))),
  ]) {
    const { ctx, hi, lo } = setup();
    await onRoomPresence(
      ctx,
      xml("presence", { from: hi.jid, to: `${ROOM}/hi` }, xml("status", {}, "busy"), payload),
      ROOM,
      "hi",
    );
    assert.equal(leaked(ctx, lo.jid, "TS-SECRET-TEXT"), false, "reflected to another occupant");
    assert.equal(ctx.refused.length, 1);
    assert.equal(ctx.refused[0]!.spec.condition, "bad-request");
  }
});

test("disco#info: the subject is shown to occupants only, not to anyone who asks", () => {
  const { ctx, room, hi } = setup();
  room.subject = { text: "SUBJECT-ONLY-FOR-OCCUPANTS", nick: "hi" };
  const field = (from: string) => {
    const info = discoInfo(ctx, { to: ROOM, from });
    const form = info?.forms?.[0];
    assert.ok(form);
    return form.toString();
  };
  assert.ok(field(hi.jid).includes("SUBJECT-ONLY-FOR-OCCUPANTS"), "an occupant sees the subject");
  assert.equal(
    field("uncleared@elsewhere.test/x").includes("SUBJECT-ONLY-FOR-OCCUPANTS"),
    false,
    "a non-occupant read the subject",
  );
});

test("declines go only to the occupant who invited, and a labelled decline is refused", async () => {
  const { ctx, room, hi } = setup();
  // An occupant (or anyone) cannot use the room to relay text, label stripped, to an arbitrary JID.
  await onDecline(
    ctx,
    room,
    xml(
      "message",
      { from: hi.jid, to: ROOM },
      xml(
        "x",
        { xmlns: "http://jabber.org/protocol/muc#user" },
        xml("decline", { to: "outsider@evil.test" }, xml("reason", {}, "TS-SECRET-TEXT")),
      ),
      parseElement(labelXml(TS)),
    ),
    xml("decline", { to: "outsider@evil.test" }, xml("reason", {}, "TS-SECRET-TEXT")),
  );
  assert.equal(
    leaked(ctx, "outsider@evil.test", "TS-SECRET-TEXT"),
    false,
    "relayed to a JID that invited nobody",
  );
  // A real invitation, then its decline: it reaches the inviter.
  await ctx.store.setUserClearance("guest@example.test", {
    encoding: "ber",
    data: Buffer.from(encodeBerClearance(clearance(ALL))).toString("base64"),
  });
  const user = "http://jabber.org/protocol/muc#user";
  const invite = xml("invite", { to: "guest@example.test" }, xml("reason", {}, "come"));
  await onInvite(
    ctx,
    room,
    hi,
    xml("message", { from: hi.jid, to: ROOM, id: "i1" }, xml("x", { xmlns: user }, invite)),
    invite,
  );
  assert.equal(sentTo(ctx, "guest@example.test").length, 1, "invited");
  const decline = xml("decline", { to: hi.jid }, xml("reason", {}, "busy"));
  await onDecline(
    ctx,
    room,
    xml("message", { from: "guest@example.test/phone", to: ROOM }, xml("x", { xmlns: user }, decline)),
    decline,
  );
  assert.equal(sentTo(ctx, hi.jid).length, 1, "the inviter got the decline");
  // A second decline of the same invitation goes nowhere.
  await onDecline(
    ctx,
    room,
    xml("message", { from: "guest@example.test/phone", to: ROOM }, xml("x", { xmlns: user }, decline)),
    decline,
  );
  assert.equal(sentTo(ctx, hi.jid).length, 1);
});

test("join: a clearance lowered while the join waits for the client's features is the one that decides", async () => {
  const { ctx: base } = setup();
  const store = new MemoryStore();
  const raw = (c: Clearance) => ({
    encoding: "ber" as const,
    data: Buffer.from(encodeBerClearance(c)).toString("base64"),
  });
  await store.setUserClearance("carol@example.test", raw(clearance(ALL)));
  const secretRoom = new Room(
    "deep@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG },
    { label: label("SECRET"), clearance: clearance(ALL), defaultLabel: label("SECRET"), raw: {} },
  );
  secretRoom.setAffiliation("owner@example.test", "owner");
  // The client's disco#info answer takes a while; meanwhile the directory lowers Carol's clearance.
  const awareness = {
    async discover() {
      await store.setUserClearance("carol@example.test", raw(clearance(["UNCLASSIFIED"])));
      return false;
    },
  } as unknown as LabelAwareness;
  const ctx: CapturingContext = {
    ...base,
    store,
    clearances: new ClearanceBook({
      reader: new ClearanceReader({ registry, store }),
      localDomains: ["example.test"],
    }),
    awareness,
  };
  ctx.rooms.set(secretRoom.jid, secretRoom);
  await onRoomPresence(
    ctx,
    xml(
      "presence",
      { from: "carol@example.test/laptop", to: `${secretRoom.jid}/carol` },
      xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
    ),
    secretRoom.jid,
    "carol",
  );
  assert.equal(
    secretRoom.byJid.has("carol@example.test/laptop"),
    false,
    "admitted with the clearance read before it was lowered",
  );
  assert.equal(ctx.refused[0]?.spec.condition, "forbidden");
});

test("invitation: reason text without a label carries the room's default label, which the invitee must be cleared for", async () => {
  const { ctx, room, hi } = setup();
  room.security.defaultLabel = label("SECRET"); // unlabelled messages in this room are SECRET
  await ctx.store.setUserClearance("uguest@example.test", {
    encoding: "ber",
    data: Buffer.from(encodeBerClearance(clearance(["UNCLASSIFIED"]))).toString("base64"),
  });
  const invite = xml("invite", { to: "uguest@example.test" }, xml("reason", {}, "S-DEFAULT-TEXT"));
  await onInvite(
    ctx,
    room,
    hi,
    xml(
      "message",
      { from: hi.jid, to: ROOM, id: "i2" },
      xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, invite),
    ),
    invite,
  );
  assert.equal(
    leaked(ctx, "uguest@example.test", "S-DEFAULT-TEXT"),
    false,
    "SECRET-by-default text reached an UNCLASSIFIED invitee",
  );
  assert.equal(ctx.refused[0]?.spec.condition, "forbidden");
  // Without a reason the invitation carries no content: the room label alone decides.
  const bare = xml("invite", { to: "uguest@example.test" });
  await onInvite(
    ctx,
    room,
    hi,
    xml(
      "message",
      { from: hi.jid, to: ROOM, id: "i3" },
      xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, bare),
    ),
    bare,
  );
  assert.equal(sentTo(ctx, "uguest@example.test").length, 1);
});

test("join: a room created (and locked) by a concurrent join stays closed to others until configured", async () => {
  const { ctx: base } = setup();
  const store = new MemoryStore();
  const raw = {
    encoding: "ber" as const,
    data: Buffer.from(encodeBerClearance(clearance(ALL))).toString("base64"),
  };
  await store.setUserClearance("first@example.test", raw);
  await store.setUserClearance("second@example.test", raw);
  const awareness = {
    async discover(full: string) {
      await new Promise((r) => setTimeout(r, full.startsWith("second") ? 30 : 0));
      return false;
    },
  } as unknown as LabelAwareness;
  const ctx: CapturingContext = {
    ...base,
    store,
    clearances: new ClearanceBook({
      reader: new ClearanceReader({ registry, store }),
      localDomains: ["example.test"],
    }),
    awareness,
  };
  const jid = "fresh@rooms.example.test";
  const join = (who: string) =>
    onRoomPresence(
      ctx,
      xml(
        "presence",
        { from: `${who}@example.test/r`, to: `${jid}/${who}` },
        xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
      ),
      jid,
      who,
    );
  await Promise.all([join("first"), join("second")]);
  const room = ctx.rooms.get(jid);
  assert.ok(room?.locked, "created and locked by the first joiner");
  assert.equal(room.byJid.has("second@example.test/r"), false, "entered a locked room");
  assert.equal(ctx.refused.at(-1)?.spec.condition, "item-not-found");
});

test("groupchat: a label-unaware occupant is not sent an XHTML-IM body that would show without the FLOT marking", async () => {
  const { ctx, room, hi, lo } = setup();
  await onGroupchat(
    ctx,
    room,
    hi,
    xml(
      "message",
      { from: hi.jid, to: ROOM, type: "groupchat", id: "x2" },
      xml("body", {}, "plain"),
      xml("html", { xmlns: NS_XHTML_IM }, xml("body", { xmlns: "http://www.w3.org/1999/xhtml" }, "rich")),
    ),
  );
  const [copy] = sentTo(ctx, lo.jid);
  assert.ok(copy, "delivered");
  assert.equal(
    copy.getChild("html", NS_XHTML_IM),
    undefined,
    "an unmarked XHTML-IM body went to a FLOT client",
  );
  // A label-aware occupant sees the label beside the message, so it keeps the XHTML-IM body.
  const [aware] = sentTo(ctx, hi.jid);
  assert.equal(
    aware?.getChild("html", NS_XHTML_IM)?.getChildText("body", "http://www.w3.org/1999/xhtml"),
    "rich",
  );
  // History keeps it apart too: replayed with the label to the aware, without it under FLOT.
  assert.equal(room.history.at(-1)?.extra, "");
  assert.match(room.history.at(-1)?.rich ?? "", /rich/);
});

test("subject: an occupant whose clearance is unknown (store down) neither receives a subject change nor makes one", async () => {
  const { ctx, room, hi, lo } = setup();
  hi.role = "moderator";
  lo.role = "moderator";
  lo.clearance = { status: "unknown", reason: "store down" };
  await changeSubject(
    ctx,
    room,
    hi,
    xml(
      "message",
      { from: hi.jid, to: ROOM, type: "groupchat", id: "s1" },
      xml("subject", {}, "SUBJECT-TEXT"),
    ),
  );
  assert.equal(room.subject.text, "SUBJECT-TEXT");
  assert.ok(sentTo(ctx, hi.jid).some((m) => m.getChildText("subject") === "SUBJECT-TEXT"));
  assert.equal(
    leaked(ctx, lo.jid, "SUBJECT-TEXT"),
    false,
    "the subject reached an occupant whose clearance is unknown",
  );
  await changeSubject(
    ctx,
    room,
    lo,
    xml("message", { from: lo.jid, to: ROOM, type: "groupchat", id: "s2" }, xml("subject", {}, "from lo")),
  );
  assert.equal(room.subject.text, "SUBJECT-TEXT");
  assert.equal(ctx.refused.at(-1)?.spec.condition, "internal-server-error");
});

test("presence: an occupant whose clearance is unknown gets others' availability, not their status text", async () => {
  const { ctx, hi, lo } = setup();
  lo.clearance = { status: "unknown", reason: "store down" };
  await onRoomPresence(
    ctx,
    xml(
      "presence",
      { from: hi.jid, to: `${ROOM}/hi` },
      xml("show", {}, "dnd"),
      xml("status", {}, "STATUS-TEXT"),
    ),
    ROOM,
    "hi",
  );
  const toLo = sentTo(ctx, lo.jid).filter((p) => p.name === "presence");
  assert.ok(toLo.length > 0, "lo still sees hi's presence");
  assert.equal(leaked(ctx, lo.jid, "STATUS-TEXT"), false);
  assert.ok(
    sentTo(ctx, hi.jid).some((p) => p.getChildText("status") === "STATUS-TEXT"),
    "hi's own echo keeps it",
  );
});

test("kick: the reason reaches the kicked occupant and those whose clearance is known, not one whose clearance is unknown", async () => {
  const { ctx, room, hi, lo } = setup();
  const third: Occupant = {
    ...lo,
    nick: "third",
    jid: "third@example.test/r",
    bare: "third@example.test",
    occupantId: "oid-third",
  };
  room.add(third);
  lo.clearance = { status: "unknown", reason: "store down" };
  await removeOccupant(ctx, room, third, { statuses: [307], reason: "KICK-REASON", actor: hi.nick });
  assert.ok(sentTo(ctx, third.jid).some((p) => p.toString().includes("KICK-REASON")));
  assert.ok(sentTo(ctx, hi.jid).some((p) => p.toString().includes("KICK-REASON")));
  assert.ok(sentTo(ctx, lo.jid).length > 0, "lo sees the removal");
  assert.equal(leaked(ctx, lo.jid, "KICK-REASON"), false);
});
