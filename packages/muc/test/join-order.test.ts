// XEP-0045 §7.2.3 join sequence as the joiner sees it, and the joiner's presence as each other
// occupant sees it (issue 19: the self-presence is sent before the joiner's presence to the others,
// and that presence is rendered once per kind of recipient, then addressed per copy). Real
// handlers, real policy engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, type Element } from "@cordon/component";
import { encodeBerClearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { onRoomPresence } from "../src/service/presence.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");
const NS_USER = "http://jabber.org/protocol/muc#user";
const JOINER = "joiner@example.test/pc";

async function joinRoom(whois: "moderators" | "anyone"): Promise<{ sent: Element[]; others: Occupant[] }> {
  const ctx = capturingContext(registry, policy, {
    domain: "rooms.example.test",
    defaultRoomLabel: U,
    serviceClearance: clearance(ALL),
  });
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, whois },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
    ctx.budgets,
  );
  const person = (name: string, role: Occupant["role"]): Occupant => ({
    nick: name,
    jid: `${name}@example.test/r`,
    bare: `${name}@example.test`,
    role,
    affiliation: role === "moderator" ? "owner" : "none",
    occupantId: `oid-${name}`,
    clearance: { status: "known", clearance: clearance(ALL), fingerprint: name },
    labelAware: true,
    presenceXml: `<status>${name} here</status>`,
    joinedAt: 0,
  });
  const others = [person("mod", "moderator"), person("p1", "participant"), person("p2", "participant")];
  const dark = person("dark", "participant");
  dark.clearance = { status: "unknown", reason: "store down (test)" };
  others.push(dark);
  room.setAffiliation("mod@example.test", "owner");
  for (const o of others) room.add(o);
  ctx.rooms.set(ROOM, room);
  await ctx.store.setUserClearance("joiner@example.test", {
    encoding: "ber",
    data: Buffer.from(encodeBerClearance(clearance(ALL))).toString("base64"),
  });
  await onRoomPresence(
    ctx,
    xml(
      "presence",
      { from: JOINER, to: `${ROOM}/newbie` },
      xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
      xml("status", {}, "ready"),
    ),
    ROOM,
    "newbie",
  );
  assert.deepEqual(ctx.refused, []);
  assert.equal(room.byJid.has(JOINER), true);
  return { sent: ctx.sent.map((s) => parseElement(s)), others };
}

const statuses = (p: Element): string[] =>
  p
    .getChild("x", NS_USER)!
    .getChildren("status")
    .map((s) => s.attrs.code ?? "");

for (const whois of ["moderators", "anyone"] as const) {
  test(`join (whois ${whois}): the joiner gets every occupant, then its self-presence, then the subject; the others then get its presence, as each may see it`, async () => {
    const { sent, others } = await joinRoom(whois);
    const toJoiner = sent.filter((s) => s.attrs.to === JOINER);
    const toOthers = sent.filter((s) => s.attrs.to !== JOINER);
    // The joiner: the four occupants, its self-presence (110) last among presences, then the subject.
    assert.deepEqual(
      toJoiner.map((s) => `${s.name} ${s.attrs.from}`),
      [...others.map((o) => `presence ${ROOM}/${o.nick}`), `presence ${ROOM}/newbie`, `message ${ROOM}`],
    );
    assert.ok(statuses(toJoiner[4]!).includes("110"));
    // Everything to the joiner is sent before anything to the others.
    const lastToJoiner = sent.findLastIndex((s) => s.attrs.to === JOINER);
    const firstToOthers = sent.findIndex((s) => s.attrs.to !== JOINER);
    assert.ok(lastToJoiner < firstToOthers, `joiner's last ${lastToJoiner}, others' first ${firstToOthers}`);
    // The others: exactly one copy each, from the joiner's occupant JID, without status codes.
    assert.deepEqual(toOthers.map((s) => s.attrs.to).sort(), others.map((o) => o.jid).sort());
    for (const copy of toOthers) {
      const recipient = others.find((o) => o.jid === copy.attrs.to)!;
      assert.equal(copy.attrs.from, `${ROOM}/newbie`);
      assert.deepEqual(statuses(copy), []);
      const item = copy.getChild("x", NS_USER)!.getChild("item")!;
      assert.equal(item.attrs.role, "participant");
      // §7.2.3: the real JID to moderators only in a semi-anonymous room, to everyone otherwise.
      const seesJid = whois === "anyone" || recipient.role === "moderator";
      assert.equal(item.attrs.jid, seesJid ? JOINER : undefined, recipient.nick);
      // The status text is room content: not for an occupant whose clearance is unknown.
      assert.equal(
        copy.getChildText("status"),
        recipient.clearance.status === "known" ? "ready" : null,
        recipient.nick,
      );
      assert.equal(copy.getChild("occupant-id", "urn:xmpp:occupant-id:0")?.attrs.id !== undefined, true);
    }
  });
}
