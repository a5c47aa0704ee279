// The service operator's room operations (admin console, issue 18): each goes through the owner's
// or the moderator's code path — a raised label removes the uncovered at once (307) and forgets
// the subject and status texts, the service clearance bounds every label the operator sets, a kick
// is XEP-0045 §8.2 (307, no actor), a destroy is §10.9; the operator's own clearance is never asked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import { encodeBerClearance, type Clearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import {
  mucOperator,
  MucOperatorRefusedError,
  MucOperatorUnavailableError,
  MucRoomExistsError,
  MucRoomNotFoundError,
} from "../src/service/operator.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");
const C = label("CONFIDENTIAL");
const S = label("SECRET");
const raw = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});
const NAMED = [
  { name: "UNCLASSIFIED", label: U },
  { name: "CONFIDENTIAL", label: C },
  { name: "SECRET", label: S },
];

function occupant(nick: string, classes: string[], affiliation: Occupant["affiliation"] = "none"): Occupant {
  return {
    nick,
    jid: `${nick}@example.test/r`,
    bare: `${nick}@example.test`,
    role: affiliation === "owner" ? "moderator" : "participant",
    affiliation,
    occupantId: nick,
    clearance: { status: "known", clearance: clearance(classes), fingerprint: classes.join() },
    labelAware: true,
    presenceXml: `<status>${nick.toUpperCase()}-STATUS</status>`,
    joinedAt: 0,
  };
}

function setup(serviceClearance?: Clearance): { ctx: CapturingContext; room: Room } {
  const ctx = capturingContext(registry, policy, {
    defaultRoomLabel: U,
    defaultMessageLabel: U,
    namedLabels: NAMED,
    serviceClearance,
  });
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, persistent: true },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
    ctx.budgets,
  );
  ctx.rooms.set(ROOM, room);
  room.setAffiliation("own@example.test", "owner");
  room.add(occupant("own", ALL, "owner"));
  room.add(occupant("low", ["UNCLASSIFIED"]));
  room.add(occupant("mid", ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]));
  room.subject = { text: "UNCLASSIFIED-SUBJECT", nick: "own" };
  return { ctx, room };
}

const to = (stanzas: string[], who: string) =>
  stanzas.map((s) => parseElement(s)).filter((e) => e.attrs.to === `${who}@example.test/r`);
const statuses = (e: ReturnType<typeof parseElement>) =>
  (e.getChild("x", "http://jabber.org/protocol/muc#user")?.getChildren("status") ?? []).map(
    (s) => s.attrs.code,
  );

test("operator relabel upward: the uncleared occupant is removed with 307 at once, subject and status texts forgotten, 104 to the rest", async () => {
  const { ctx, room } = setup();
  const op = mucOperator(ctx);
  const { removed, room: view } = await op.relabel(ROOM, { label: "SECRET" });
  assert.deepEqual(removed, ["low"]);
  assert.equal(view.label, room.security.label);
  assert.equal(room.security.label?.classification.name, "SECRET");
  assert.ok(!room.occupants.has("low"));
  assert.deepEqual([...room.occupants.keys()].sort(), ["mid", "own"]);
  const low = to(ctx.sent, "low");
  assert.equal(low.length, 1);
  assert.equal(low[0]!.attrs.type, "unavailable");
  assert.deepEqual(statuses(low[0]!), ["307", "110"]);
  // the others hear low leave (307), then 104 (configuration changed)
  for (const who of ["own", "mid"]) {
    const got = to(ctx.sent, who);
    assert.ok(got.some((e) => e.is("presence") && statuses(e).includes("307")));
    assert.ok(got.some((e) => e.is("message") && statuses(e).includes("104")));
  }
  assert.equal(room.subject.text, "");
  for (const o of room.occupants.values()) assert.doesNotMatch(o.presenceXml, /STATUS/);
  assert.ok(room.security.raw.label, "the stored form is set (persisted by saveRoom)");
});

test("operator relabel: outside the service clearance is refused and nothing changes; the operator's own clearance is never asked", async () => {
  const { ctx, room } = setup(clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"]));
  const op = mucOperator(ctx);
  await assert.rejects(op.relabel(ROOM, { label: "SECRET" }), (e: unknown) => {
    assert.ok(e instanceof MucOperatorRefusedError);
    assert.match(e.message, /outside the service clearance/);
    return true;
  });
  assert.equal(room.security.label, U);
  assert.equal(room.occupants.size, 3);
  assert.equal(ctx.sent.length, 0);
  // CONFIDENTIAL is within the bound: granted, although no clearance stands for the operator.
  const { removed } = await op.relabel(ROOM, { label: "CONFIDENTIAL" });
  assert.deepEqual(removed, ["low"]);
  await assert.rejects(op.relabel(ROOM, { label: "NOPE" }), MucOperatorRefusedError);
  await assert.rejects(op.relabel(ROOM, {}), MucOperatorRefusedError);
});

test("operator relabel: the service clearance unknown (store down) refuses with unavailable, nothing changes", async () => {
  const { ctx, room } = setup();
  ctx.clearances.service = async () => ({ status: "unknown", reason: "down" });
  await assert.rejects(mucOperator(ctx).relabel(ROOM, { label: "SECRET" }), MucOperatorUnavailableError);
  assert.equal(room.security.label, U);
  assert.equal(room.occupants.size, 3);
});

test("operator kick: any occupant, the owner included (XEP-0045 §8.2: 307, no actor); may enter again", async () => {
  const { ctx, room } = setup();
  const op = mucOperator(ctx);
  await op.kick(ROOM, "own", "operator says");
  assert.ok(!room.occupants.has("own"));
  const own = to(ctx.sent, "own");
  assert.equal(own.length, 1);
  assert.deepEqual(statuses(own[0]!), ["307", "110"]);
  const item = own[0]!.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("item");
  assert.equal(item?.attrs.role, "none");
  assert.equal(item?.getChild("actor"), undefined);
  assert.equal(item?.getChildText("reason"), "operator says");
  assert.deepEqual(statuses(to(ctx.sent, "low")[0]!), ["307"]);
  assert.equal(room.affiliationOf("own@example.test"), "owner", "a kick is not a ban");
  await assert.rejects(op.kick(ROOM, "nobody"), MucOperatorRefusedError);
  await assert.rejects(op.kick(ROOM, "low", "x".repeat(100_000)), /too long/);
  assert.ok(room.occupants.has("low"));
});

test("operator destroy: every occupant told (XEP-0045 §10.9), the room gone", async () => {
  const { ctx, room } = setup();
  const op = mucOperator(ctx);
  assert.deepEqual(await op.destroy(ROOM, "closing"), { occupants: 3 });
  assert.ok(room.destroyed);
  assert.ok(!ctx.rooms.has(ROOM));
  for (const who of ["own", "low", "mid"]) {
    const got = to(ctx.sent, who);
    assert.equal(got.length, 1);
    assert.equal(
      got[0]!
        .getChild("x", "http://jabber.org/protocol/muc#user")
        ?.getChild("destroy")
        ?.getChildText("reason"),
      "closing",
    );
  }
  assert.throws(() => op.room(ROOM), MucRoomNotFoundError);
  await assert.rejects(op.destroy(ROOM), MucRoomNotFoundError);
});

test("operator create: configured at once, owners must be cleared for the label, bounded by the service clearance", async () => {
  const { ctx } = setup(clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"]));
  const op = mucOperator(ctx);
  await ctx.store.setUserClearance("hi@example.test", raw(clearance(ALL)));
  await ctx.store.setUserClearance("lo@example.test", raw(clearance(["UNCLASSIFIED"])));
  await assert.rejects(op.create({ room: "ops", security: { label: "UNCLASSIFIED" } }), MucRoomExistsError);
  await assert.rejects(
    op.create({ room: "top", security: { label: "SECRET" } }),
    /outside the service clearance/,
  );
  await assert.rejects(
    op.create({ room: "conf", owners: ["lo@example.test"], security: { label: "CONFIDENTIAL" } }),
    (e: unknown) => e instanceof MucOperatorRefusedError && /cleared/.test(e.message),
  );
  assert.ok(!ctx.rooms.has("conf@rooms.example.test"), "a refused create leaves nothing");
  await assert.rejects(
    op.create({ room: "x@elsewhere.test", security: { label: "UNCLASSIFIED" } }),
    MucOperatorRefusedError,
  );
  const made = await op.create({
    room: "Conf",
    name: "Conference",
    owners: ["hi@example.test"],
    security: {
      label: "CONFIDENTIAL",
      clearance: ["UNCLASSIFIED", "CONFIDENTIAL"],
      defaultLabel: "UNCLASSIFIED",
    },
  });
  assert.equal(made.jid, "conf@rooms.example.test");
  assert.equal(made.locked, false);
  assert.equal(made.persistent, true);
  assert.deepEqual(made.owners, ["hi@example.test"]);
  assert.equal(made.label?.classification.name, "CONFIDENTIAL");
  assert.equal(ctx.rooms.get("conf@rooms.example.test")?.security.defaultLabel, U);
});
