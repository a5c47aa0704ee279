// Issue 15 item 2: a room label change forgets the subject and the occupants' status texts written
// under the old label; messages keep their own labels, in history as live.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, type IqRequest } from "@cordon/component";
import { encodeBerClearance, type Clearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { ownerSet } from "../src/service/owner.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onRoomPresence } from "../src/service/presence.js";
import { isRelabel, withoutStatus } from "../src/security/room-relabel.js";
import { NS_DATA, NS_MUC_OWNER } from "../src/namespaces.js";
import { syncRoom } from "../src/service/room-sync.js";
import { roomToRecord } from "../src/service/persistence.js";
import { storedLabel } from "../src/service/room-config-form.js";
import type { LabelAwareness } from "../src/service/label-awareness.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, labelXml, ALL } from "./fixtures.js";

const ROOM = "vault@rooms.example.test";
const U = label("UNCLASSIFIED");
const S = label("SECRET");
const raw = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});

test("isRelabel: any change of the label, not only a lowering; withoutStatus keeps the rest", () => {
  assert.equal(isRelabel(S, label("SECRET")), false);
  assert.equal(isRelabel(S, U), true);
  assert.equal(isRelabel(U, S), true);
  assert.equal(
    withoutStatus(
      "<show>away</show><status>TOP-TEXT</status><c xmlns='http://jabber.org/protocol/caps' node='n' ver='v' hash='sha-1'/>",
    ),
    '<show>away</show><c xmlns="http://jabber.org/protocol/caps" node="n" ver="v" hash="sha-1"/>',
  );
  assert.equal(withoutStatus("<show>dnd</show>"), "<show>dnd</show>");
});

test("lowering the room label: subject, status texts and SECRET history are not replayed to an UNCLASSIFIED joiner", async () => {
  const ctx = capturingContext(registry, policy, {
    defaultRoomLabel: U,
    defaultMessageLabel: U,
    namedLabels: [
      { name: "UNCLASSIFIED", label: U },
      { name: "SECRET", label: S },
    ],
  });
  (ctx as { awareness: Pick<LabelAwareness, "discover"> }).awareness = { discover: async () => false };
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG },
    { label: S, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  ctx.rooms.set(ROOM, room);
  room.setAffiliation("own@example.test", "owner");
  await ctx.store.setUserClearance("own@example.test", raw(clearance(ALL)));
  await ctx.store.setUserClearance("low@example.test", raw(clearance(["UNCLASSIFIED"])));
  const owner: Occupant = {
    nick: "own",
    jid: "own@example.test/r",
    bare: "own@example.test",
    role: "moderator",
    affiliation: "owner",
    occupantId: "oid",
    clearance: { status: "known", clearance: clearance(ALL), fingerprint: "all" },
    labelAware: true,
    presenceXml: "<status>SECRET-STATUS-TEXT</status>",
    joinedAt: 0,
  };
  room.add(owner);
  room.subject = { text: "SECRET-SUBJECT-TEXT", nick: "own" };
  await onGroupchat(
    ctx,
    room,
    owner,
    xml(
      "message",
      { from: owner.jid, to: ROOM, type: "groupchat", id: "m1" },
      xml("body", {}, "SECRET-BODY-TEXT"),
      parseElement(labelXml(S)),
    ),
  );
  const form = xml(
    "query",
    { xmlns: NS_MUC_OWNER },
    xml(
      "x",
      { xmlns: NS_DATA, type: "submit" },
      xml("field", { var: "sec-label#label" }, xml("value", {}, "UNCLASSIFIED")),
    ),
  );
  await ownerSet(ctx, room, {
    from: owner.jid,
    to: ROOM,
    id: "c1",
    type: "set",
    payload: form,
  } as unknown as IqRequest);
  assert.equal(room.security.label, U);
  assert.equal(room.subject.text, "");
  assert.equal(owner.presenceXml, "");
  ctx.sent.length = 0;
  await onRoomPresence(ctx, xml("presence", { from: "low@example.test/r", to: `${ROOM}/low` }), ROOM, "low");
  const toLow = ctx.sent.filter((s) => s.includes('to="low@example.test/r"')).join("\n");
  assert.ok(toLow.includes("110"), "the UNCLASSIFIED user entered");
  for (const secret of ["SECRET-SUBJECT-TEXT", "SECRET-STATUS-TEXT", "SECRET-BODY-TEXT"])
    assert.ok(!toLow.includes(secret), `${secret} replayed to an UNCLASSIFIED joiner`);
});

test("a label changed in the store (another instance, a tool) forgets the subject and status texts too", async () => {
  const ctx = capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: U });
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, persistent: true },
    { label: S, clearance: clearance(ALL), defaultLabel: U, raw: { label: storedLabel(S) } },
  );
  ctx.rooms.set(ROOM, room);
  const stay: Occupant = {
    nick: "stay",
    jid: "stay@example.test/r",
    bare: "stay@example.test",
    role: "participant",
    affiliation: "none",
    occupantId: "oid",
    clearance: { status: "known", clearance: clearance(ALL), fingerprint: "all" },
    labelAware: true,
    presenceXml: "<status>SECRET-STATUS-TEXT</status>",
    joinedAt: 0,
  };
  room.add(stay);
  room.subject = { text: "SECRET-SUBJECT-TEXT", nick: "stay" };
  const record = roomToRecord(room);
  await ctx.store.putRoom({ ...record, label: storedLabel(U) });
  await syncRoom(ctx, ROOM);
  const live = ctx.rooms.get(ROOM)!;
  assert.equal(live.security.label?.classification.name, "UNCLASSIFIED");
  assert.equal(live.subject.text, "");
  assert.equal(stay.presenceXml, "");
});
