// Issue 15 item 2: owner and admin powers need a clearance, read now, that grants the room label;
// affiliations that give access go only to JIDs cleared for it. Real handlers, real policy engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, StanzaErrorException, type IqRequest } from "@cordon/component";
import { encodeBerClearance, type Clearance } from "@cordon/policy";
import type { ClearanceState } from "@cordon/rules";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { ownerGet, ownerSet } from "../src/service/owner.js";
import { adminGet, adminSet } from "../src/service/admin.js";
import { NS_DATA, NS_MUC_ADMIN, NS_MUC_OWNER } from "../src/namespaces.js";
import type { ClearanceBook } from "../src/security/clearance-book.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const ROOM = "vault@rooms.example.test";
const U = label("UNCLASSIFIED");
const S = label("SECRET");
const OWNER = "own@example.test";
const raw = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});

async function setup(ownerClearance: Clearance): Promise<{ ctx: CapturingContext; room: Room }> {
  const ctx = capturingContext(registry, policy, {
    defaultRoomLabel: U,
    defaultMessageLabel: U,
    namedLabels: [
      { name: "UNCLASSIFIED", label: U },
      { name: "SECRET", label: S },
    ],
  });
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, password: "hunter2" },
    { label: S, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  room.setAffiliation(OWNER, "owner");
  ctx.rooms.set(ROOM, room);
  await ctx.store.setUserClearance(OWNER, raw(ownerClearance));
  await ctx.store.setUserClearance("low@example.test", raw(clearance(["UNCLASSIFIED"])));
  await ctx.store.setUserClearance("high@example.test", raw(clearance(ALL)));
  return { ctx, room };
}

const iq = (payload: ReturnType<typeof xml>, from = `${OWNER}/r`): IqRequest =>
  ({
    from,
    to: ROOM,
    id: "q1",
    type: payload.name === "query" ? "set" : "get",
    payload,
    stanza: xml("iq"),
  }) as unknown as IqRequest;

const condition = async (p: () => Promise<unknown>): Promise<string | undefined> => {
  try {
    await p();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof StanzaErrorException, String(error));
    return error.spec.condition;
  }
};

const submit = (fields: Record<string, string>) =>
  xml(
    "query",
    { xmlns: NS_MUC_OWNER },
    xml(
      "x",
      { xmlns: NS_DATA, type: "submit" },
      ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))),
    ),
  );

test("an owner whose clearance no longer grants the room label can neither read the form nor relabel the room", async () => {
  const { ctx, room } = await setup(clearance(["UNCLASSIFIED"]));
  assert.equal(
    await condition(async () => ownerGet(ctx, room, iq(xml("query", { xmlns: NS_MUC_OWNER })))),
    "forbidden",
  );
  assert.equal(
    await condition(async () => ownerSet(ctx, room, iq(submit({ "sec-label#label": "UNCLASSIFIED" })))),
    "forbidden",
  );
  assert.equal(room.security.label, S, "the room label is unchanged");
  assert.equal(
    await condition(async () =>
      ownerSet(ctx, room, iq(xml("query", { xmlns: NS_MUC_OWNER }, xml("destroy")))),
    ),
    "forbidden",
  );
  assert.equal(room.destroyed, false);
  const list = xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { affiliation: "owner" }));
  assert.equal(await condition(async () => adminGet(ctx, room, iq(list))), "forbidden");
  const grant = xml(
    "query",
    { xmlns: NS_MUC_ADMIN },
    xml("item", { affiliation: "admin", jid: "high@example.test" }),
  );
  assert.equal(await condition(async () => adminSet(ctx, room, iq(grant))), "forbidden");
  assert.equal(room.affiliationOf("high@example.test"), "none");
  // The error texts are ours: nothing of the request in them.
  assert.ok(ctx.sent.every((s) => !s.includes("hunter2")));
});

test("owner and admin requests are refused with wait when the owner's clearance is unknown (fail closed)", async () => {
  const { ctx, room } = await setup(clearance(ALL));
  const unknown: ClearanceState = { status: "unknown", reason: "store down" };
  (ctx as { clearances: Pick<ClearanceBook, "lookup"> }).clearances = { lookup: async () => unknown };
  assert.equal(
    await condition(async () => ownerGet(ctx, room, iq(xml("query", { xmlns: NS_MUC_OWNER })))),
    "internal-server-error",
  );
  const list = xml("query", { xmlns: NS_MUC_ADMIN }, xml("item", { affiliation: "member" }));
  assert.equal(await condition(async () => adminGet(ctx, room, iq(list))), "internal-server-error");
});

test("a cleared owner still configures the room and reads the form", async () => {
  const { ctx, room } = await setup(clearance(ALL));
  const form = await ownerGet(ctx, room, iq(xml("query", { xmlns: NS_MUC_OWNER })));
  assert.ok(form.toString().includes("hunter2"));
  await ownerSet(ctx, room, iq(submit({ "muc#roomconfig_roomname": "Vault" })));
  assert.equal(room.config.name, "Vault");
});

test("owner, admin and member go only to JIDs cleared for the room label; outcast and none to anyone", async () => {
  const { ctx, room } = await setup(clearance(ALL));
  for (const affiliation of ["owner", "admin", "member"]) {
    const grant = xml(
      "query",
      { xmlns: NS_MUC_ADMIN },
      xml("item", { affiliation, jid: "low@example.test" }),
    );
    assert.equal(await condition(async () => adminSet(ctx, room, iq(grant))), "not-acceptable", affiliation);
    assert.equal(room.affiliationOf("low@example.test"), "none");
    // Unknown JIDs have the nil clearance: refused as well.
    const nobody = xml(
      "query",
      { xmlns: NS_MUC_ADMIN },
      xml("item", { affiliation, jid: "ghost@example.test" }),
    );
    assert.equal(await condition(async () => adminSet(ctx, room, iq(nobody))), "not-acceptable", affiliation);
  }
  // All-or-nothing: one uncleared item refuses the cleared one beside it.
  const mixed = xml(
    "query",
    { xmlns: NS_MUC_ADMIN },
    xml("item", { affiliation: "member", jid: "high@example.test" }),
    xml("item", { affiliation: "member", jid: "low@example.test" }),
  );
  assert.equal(await condition(async () => adminSet(ctx, room, iq(mixed))), "not-acceptable");
  assert.equal(room.affiliationOf("high@example.test"), "none");
  const ok = xml(
    "query",
    { xmlns: NS_MUC_ADMIN },
    xml("item", { affiliation: "admin", jid: "high@example.test" }),
  );
  await adminSet(ctx, room, iq(ok));
  assert.equal(room.affiliationOf("high@example.test"), "admin");
  const ban = xml(
    "query",
    { xmlns: NS_MUC_ADMIN },
    xml("item", { affiliation: "outcast", jid: "low@example.test" }),
  );
  await adminSet(ctx, room, iq(ban));
  assert.equal(room.affiliationOf("low@example.test"), "outcast");
  for (const r of ctx.refused) assert.ok(!JSON.stringify(r.spec).includes("low@"), "no JID echoed");
});
