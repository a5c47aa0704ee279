// Issue 15 item 11: rooms a requester may not enter are not discoverable — left out of the
// service's disco#items, item-not-found for disco#info and disco#items on the room; an unknown
// clearance hides every room (fail closed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeBerClearance, type Clearance } from "@cordon/policy";
import type { ClearanceState } from "@cordon/rules";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { discoInfo, discoItems } from "../src/service/disco.js";
import { discoverableOnly } from "../src/security/room-discovery.js";
import type { ClearanceBook } from "../src/security/clearance-book.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const U = label("UNCLASSIFIED");
const S = label("SECRET");
const raw = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});

async function setup() {
  const ctx = capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: U });
  const open = new Room(
    "lobby@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG, name: "Lobby" },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  const vault = new Room(
    "vault@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG, name: "Operation NIGHTFALL", description: "NIGHTFALL-DESC" },
    { label: S, clearance: clearance(ALL), defaultLabel: S, raw: {} },
  );
  vault.subject = { text: "NIGHTFALL-SUBJECT", nick: "x" };
  ctx.rooms.set(open.jid, open);
  ctx.rooms.set(vault.jid, vault);
  await ctx.store.setUserClearance("low@example.test", raw(clearance(["UNCLASSIFIED"])));
  await ctx.store.setUserClearance("high@example.test", raw(clearance(ALL)));
  const disco = discoverableOnly(ctx, { info: (q) => discoInfo(ctx, q), items: (q) => discoItems(ctx, q) });
  return { ctx, disco };
}

test("a room whose label the requester's clearance does not grant is hidden from disco#items and disco#info", async () => {
  const { disco } = await setup();
  const low = "low@example.test/r";
  const items = await disco.items({ to: "rooms.example.test", from: low });
  assert.deepEqual(
    items?.map((i) => i.jid),
    ["lobby@rooms.example.test"],
  );
  assert.equal(await disco.info({ to: "vault@rooms.example.test", from: low }), undefined);
  assert.equal(await disco.items({ to: "vault@rooms.example.test", from: low }), undefined);
  assert.ok(await disco.info({ to: "lobby@rooms.example.test", from: low }));
  // Someone without any clearance (another local user) sees no labelled room at all.
  assert.deepEqual(await disco.items({ to: "rooms.example.test", from: "nobody@example.test/r" }), []);
  // The service itself stays discoverable.
  assert.ok(await disco.info({ to: "rooms.example.test", from: low }));
});

test("a cleared requester sees every room", async () => {
  const { disco } = await setup();
  const high = "high@example.test/r";
  const items = await disco.items({ to: "rooms.example.test", from: high });
  assert.deepEqual(items?.map((i) => i.jid).sort(), ["lobby@rooms.example.test", "vault@rooms.example.test"]);
  const info = await disco.info({ to: "vault@rooms.example.test", from: high });
  assert.equal(info?.identities[0]?.name, "Operation NIGHTFALL");
});

test("an unknown clearance (store down) hides every room", async () => {
  const { ctx, disco } = await setup();
  const unknown: ClearanceState = { status: "unknown", reason: "store down" };
  (ctx as { clearances: Pick<ClearanceBook, "lookup"> }).clearances = { lookup: async () => unknown };
  assert.deepEqual(await disco.items({ to: "rooms.example.test", from: "high@example.test/r" }), []);
  assert.equal(await disco.info({ to: "lobby@rooms.example.test", from: "high@example.test/r" }), undefined);
});
