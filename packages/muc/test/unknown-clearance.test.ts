// Issue 15 item 3: an occupant whose clearance is unknown (store or directory down) stays in the room
// but receives no room content — on every path that sends it, not only labelled messages: the
// reason of a role or affiliation change that removes no one, a moderator's reason to the occupant
// it removes, the destroy reason and alternate venue, the subject in the room's disco#info, a
// decliner's text. Real handlers, real policy engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, type Element, type IqRequest } from "@cordon/component";
import { encodeBerClearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { adminSet } from "../src/service/admin.js";
import { destroyRoom } from "../src/service/owner.js";
import { discoInfo } from "../src/service/disco.js";
import { onDecline } from "../src/service/invite.js";
import { removeOccupant } from "../src/service/presence.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";
import { person as occupant } from "./room-fixture.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");
const NS_ADMIN = "http://jabber.org/protocol/muc#admin";
const NS_USER = "http://jabber.org/protocol/muc#user";

async function setup(): Promise<{
  ctx: CapturingContext;
  room: Room;
  mod: Occupant;
  known: Occupant;
  dark: Occupant;
}> {
  const ctx = capturingContext(registry, policy, { domain: "rooms.example.test", defaultRoomLabel: U });
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  const person = (name: string): Occupant => occupant(name, clearance(ALL));
  const mod = person("mod");
  mod.role = "moderator";
  mod.affiliation = "owner";
  room.setAffiliation(mod.bare, "owner");
  const known = person("known");
  const dark = person("dark");
  dark.clearance = { status: "unknown", reason: "store down (test)" };
  for (const o of [mod, known, dark]) room.add(o);
  ctx.rooms.set(ROOM, room);
  // Owner/admin powers and granted affiliations need a clearance read now (issue 15 item 2).
  const raw = {
    encoding: "ber" as const,
    data: Buffer.from(encodeBerClearance(clearance(ALL))).toString("base64"),
  };
  for (const o of [mod, known]) await ctx.store.setUserClearance(o.bare, raw);
  return { ctx, room, mod, known, dark };
}

const sentTo = (ctx: CapturingContext, jid: string): Element[] =>
  ctx.sent.map(parseElement).filter((s) => s.attrs.to === jid);
const got = (ctx: CapturingContext, jid: string, text: string) =>
  sentTo(ctx, jid).some((s) => s.toString().includes(text));

function adminIq(from: string, ...items: Element[]): IqRequest {
  const payload = xml("query", { xmlns: NS_ADMIN }, ...items);
  return {
    stanza: xml("iq", { type: "set", id: "a1", from, to: ROOM }, payload),
    payload,
    type: "set",
    from,
    to: ROOM,
    id: "a1",
  };
}

test("a role change that removes no one: its reason reaches occupants whose clearance is known only", async () => {
  const { ctx, room, mod, known, dark } = await setup();
  await adminSet(
    ctx,
    room,
    adminIq(mod.jid, xml("item", { nick: known.nick, role: "visitor" }, xml("reason", {}, "ROLE-REASON"))),
  );
  assert.equal(known.role, "visitor");
  assert.ok(got(ctx, mod.jid, "ROLE-REASON"));
  assert.ok(got(ctx, known.jid, "ROLE-REASON"));
  assert.ok(sentTo(ctx, dark.jid).length > 0, "the occupant whose clearance is unknown sees the change");
  assert.equal(
    got(ctx, dark.jid, "ROLE-REASON"),
    false,
    "the reason reached an occupant whose clearance is unknown",
  );
});

test("an affiliation change that removes no one: its reason reaches occupants whose clearance is known only", async () => {
  const { ctx, room, mod, known, dark } = await setup();
  await adminSet(
    ctx,
    room,
    adminIq(
      mod.jid,
      xml("item", { jid: known.bare, affiliation: "member" }, xml("reason", {}, "AFF-REASON")),
    ),
  );
  assert.equal(room.affiliationOf(known.bare), "member");
  assert.ok(got(ctx, known.jid, "AFF-REASON"));
  assert.equal(got(ctx, dark.jid, "AFF-REASON"), false);
  // The changed occupant itself, when its own clearance is unknown, gets no reason either.
  await adminSet(
    ctx,
    room,
    adminIq(mod.jid, xml("item", { nick: dark.nick, role: "visitor" }, xml("reason", {}, "SELF-REASON"))),
  );
  assert.ok(sentTo(ctx, dark.jid).length > 0);
  assert.equal(got(ctx, dark.jid, "SELF-REASON"), false);
});

test("a kick: the moderator's reason does not reach the kicked occupant while its clearance is unknown", async () => {
  const { ctx, room, mod, dark } = await setup();
  await adminSet(
    ctx,
    room,
    adminIq(mod.jid, xml("item", { nick: dark.nick, role: "none" }, xml("reason", {}, "KICK-REASON"))),
  );
  assert.equal(room.byJid.has(dark.jid), false, "kicked");
  assert.ok(sentTo(ctx, dark.jid).some((p) => p.attrs.type === "unavailable"));
  assert.equal(got(ctx, dark.jid, "KICK-REASON"), false);
  assert.ok(got(ctx, mod.jid, "KICK-REASON"));
});

test("a removal for a reason of the service's own reaches the removed occupant whatever its clearance", async () => {
  const { ctx, room, dark } = await setup();
  await removeOccupant(ctx, room, dark, {
    statuses: [333],
    reason: "Your client bounced a stanza",
    ours: true,
  });
  assert.ok(got(ctx, dark.jid, "Your client bounced a stanza"));
});

test("a destroyed room: the reason and alternate venue reach occupants whose clearance is known only", async () => {
  const { ctx, room, known, dark } = await setup();
  await destroyRoom(ctx, room, "DESTROY-REASON", "elsewhere@rooms.example.test");
  const toDark = sentTo(ctx, dark.jid);
  assert.equal(toDark.length, 1, "told the room is gone");
  assert.ok(toDark[0]!.getChild("x", NS_USER)?.getChild("destroy"), "with <destroy/>");
  assert.equal(got(ctx, dark.jid, "DESTROY-REASON"), false);
  assert.equal(got(ctx, dark.jid, "elsewhere@"), false);
  assert.ok(got(ctx, known.jid, "DESTROY-REASON"));
  assert.ok(got(ctx, known.jid, "elsewhere@rooms.example.test"));
});

test("disco#info: the subject is not shown to an occupant whose clearance is unknown", async () => {
  const { ctx, room, known, dark } = await setup();
  room.subject = { text: "SUBJECT-TEXT", nick: "mod" };
  const form = (from: string) => discoInfo(ctx, { to: ROOM, from })?.forms?.[0]?.toString() ?? "";
  assert.ok(form(known.jid).includes("SUBJECT-TEXT"));
  assert.equal(form(dark.jid).includes("SUBJECT-TEXT"), false);
});

test("a decline: the decliner's text does not reach an inviter whose clearance is unknown", async () => {
  const { ctx, room, dark } = await setup();
  room.recordInvitation("guest@example.test", dark.jid);
  const decline = xml("decline", {}, xml("reason", {}, "DECLINE-TEXT"));
  await onDecline(
    ctx,
    room,
    xml("message", { from: "guest@example.test/phone", to: ROOM }, xml("x", { xmlns: NS_USER }, decline)),
    decline,
  );
  assert.equal(sentTo(ctx, dark.jid).length, 1, "the decline itself is relayed");
  assert.equal(got(ctx, dark.jid, "DECLINE-TEXT"), false);
});
