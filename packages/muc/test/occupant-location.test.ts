// Issue 17 (review adv16b): the guard's client-location rule in rooms (security/occupant-location.ts).
// An occupant's session is located at its join (its address asked of its server, once); it then
// receives and sends only what its location grants — the same user's other session, elsewhere,
// still gets it. Real handlers, real policy engine; the server's answers are a table.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeBerClearance,
  loadPolicy,
  makeClearance,
  makeLabel,
  type Clearance,
  type Label,
} from "@cordon/policy";
import { parseElement, xml, type Element } from "@cordon/component";
import type { ClientLocationOptions } from "@cordon/rules";
import { readFileSync } from "node:fs";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { onRoomPresence } from "../src/service/presence.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { takeOutUncovered } from "../src/service/owner.js";
import { roomCatalogElement } from "../src/service/room-catalog.js";
import { readServiceBound } from "../src/security/service-clearance.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, labelXml, ALL } from "./fixtures.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");
const S = label("SECRET");
const SITES: ClientLocationOptions = {
  locations: [
    { ranges: ["10.1.0.0/16"], clearance: clearance(ALL) },
    { ranges: ["10.9.0.0/16"], clearance: clearance(["UNCLASSIFIED"]) },
  ],
};
/** Where each session is, as its server tells (absent: it does not). */
const WHERE: Record<string, string> = {
  "alice@example.test/hq": "10.1.0.7",
  "alice@example.test/annex": "10.9.0.7",
  "bob@example.test/hq": "10.1.0.8",
};

function located(roomLabel: Label = U, asked: string[] = []): { ctx: CapturingContext; room: Room } {
  const ctx = capturingContext(
    registry,
    policy,
    { domain: "rooms.example.test", defaultRoomLabel: U, serviceClearance: clearance(ALL) },
    {
      locations: SITES,
      sessionAddress: async (session) => {
        asked.push(session);
        return WHERE[session];
      },
    },
  );
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, historyLength: 20 },
    { label: roomLabel, clearance: clearance(ALL), defaultLabel: U, raw: {} },
    ctx.budgets,
  );
  ctx.rooms.set(ROOM, room);
  return { ctx, room };
}

const ber = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});

async function join(ctx: CapturingContext, from: string, nick: string): Promise<void> {
  const bare = from.slice(0, from.indexOf("/"));
  await ctx.store.setUserClearance(bare, ber(clearance(ALL)));
  await onRoomPresence(
    ctx,
    xml("presence", { from, to: `${ROOM}/${nick}` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })),
    ROOM,
    nick,
  );
}

const say = (room: Room, ctx: CapturingContext, from: string, id: string, l: Label) =>
  onGroupchat(
    ctx,
    room,
    room.byJid.get(from)!,
    parseElement(
      `<message from='${from}' to='${ROOM}' type='groupchat' id='${id}'><body>${id}</body>${labelXml(l)}</message>`,
    ),
  );

/** The message stanzas `to` was sent with id `id`. */
const got = (ctx: CapturingContext, to: string, id: string): Element[] =>
  ctx.sent
    .map((s) => parseElement(s))
    .filter((e) => e.name === "message" && e.attrs.to === to && e.attrs.id === id);

test("a SECRET message reaches the session at the cleared site, not the same user's session at the annex", async () => {
  const asked: string[] = [];
  const { ctx, room } = located(U, asked);
  await join(ctx, "alice@example.test/hq", "alice");
  await join(ctx, "alice@example.test/annex", "alice-annex");
  await join(ctx, "bob@example.test/hq", "bob");
  assert.deepEqual(ctx.refused, []);
  assert.deepEqual(asked, ["alice@example.test/hq", "alice@example.test/annex", "bob@example.test/hq"]);
  await say(room, ctx, "bob@example.test/hq", "s1", S);
  await say(room, ctx, "bob@example.test/hq", "u1", U);
  assert.equal(got(ctx, "alice@example.test/hq", "s1").length, 1);
  assert.equal(got(ctx, "alice@example.test/annex", "s1").length, 0, "the annex session got SECRET");
  assert.equal(got(ctx, "alice@example.test/annex", "u1").length, 1);
  // Asked once per join: a delivery asks nothing.
  assert.equal(asked.length, 3);
});

test("SECRET sent from the annex is refused forbidden; nobody gets it, nothing is echoed or kept", async () => {
  const { ctx, room } = located();
  await join(ctx, "alice@example.test/annex", "annex");
  await join(ctx, "bob@example.test/hq", "bob");
  const before = ctx.sent.length;
  await say(room, ctx, "alice@example.test/annex", "s2", S);
  assert.equal(ctx.sent.length, before, "something of it was sent");
  assert.equal(ctx.refused.at(-1)?.spec.condition, "forbidden");
  assert.equal(room.history.length, 0);
  // UNCLASSIFIED from there is fine.
  await say(room, ctx, "alice@example.test/annex", "u2", U);
  assert.equal(got(ctx, "bob@example.test/hq", "u2").length, 1);
  assert.equal(got(ctx, "alice@example.test/annex", "u2").length, 1);
});

test("history replayed to a session at the annex leaves SECRET out", async () => {
  const { ctx, room } = located();
  await join(ctx, "bob@example.test/hq", "bob");
  await say(room, ctx, "bob@example.test/hq", "s3", S);
  await say(room, ctx, "bob@example.test/hq", "u3", U);
  await join(ctx, "alice@example.test/annex", "annex");
  await join(ctx, "alice@example.test/hq", "alice");
  const replayed = (to: string) =>
    ctx.sent
      .map((s) => parseElement(s))
      .filter((e) => e.attrs.to === to && e.getChild("delay", "urn:xmpp:delay"))
      .map((e) => e.attrs.id);
  assert.deepEqual(replayed("alice@example.test/annex"), ["u3"]);
  assert.deepEqual(replayed("alice@example.test/hq"), ["s3", "u3"]);
});

test("the join is refused forbidden where the room label is not granted, and where the address is not known (fail closed)", async () => {
  const secret = located(S);
  await join(secret.ctx, "alice@example.test/annex", "annex");
  assert.equal(secret.room.byJid.has("alice@example.test/annex"), false);
  assert.equal(secret.ctx.refused.at(-1)?.spec.condition, "forbidden");
  await join(secret.ctx, "alice@example.test/hq", "alice");
  assert.equal(secret.room.byJid.has("alice@example.test/hq"), true);
  // No address (the module does not answer the MUC, no such session): nothing labelled, so not
  // even an UNCLASSIFIED room; nothing of the room is sent to it.
  const { ctx, room } = located(U);
  await join(ctx, "alice@example.test/lost", "lost");
  assert.equal(room.byJid.has("alice@example.test/lost"), false);
  assert.equal(ctx.refused.at(-1)?.spec.condition, "forbidden");
  assert.equal(
    ctx.sent.some((s) => s.includes("alice@example.test/lost")),
    false,
  );
});

test("an occupant of another server is not located (its peer's clearance bounds it) and nothing is asked", async () => {
  const asked: string[] = [];
  const { ctx, room } = located(U, asked);
  await ctx.store.setPeerClearance("partner.test", "inbound", ber(clearance(ALL)));
  await onRoomPresence(
    ctx,
    xml(
      "presence",
      { from: "carol@partner.test/r", to: `${ROOM}/carol` },
      xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
    ),
    ROOM,
    "carol",
  );
  assert.equal(room.byJid.has("carol@partner.test/r"), true);
  assert.deepEqual(asked, []);
  await join(ctx, "bob@example.test/hq", "bob");
  await say(room, ctx, "bob@example.test/hq", "s4", S);
  assert.equal(got(ctx, "carol@partner.test/r", "s4").length, 1);
});

test("a relabelled room takes out the sessions whose location does not grant the new label; a reload keeps the locations", async () => {
  const { ctx, room } = located(U);
  await join(ctx, "alice@example.test/annex", "annex");
  await join(ctx, "alice@example.test/hq", "alice");
  // The policies reloaded (new Policy objects): the locations are re-read, the occupants keep theirs.
  const file = new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url);
  registry.replaceAll([loadPolicy(readFileSync(file, "utf8"))]);
  try {
    const now = registry.policies()[0]!;
    const nowLabel = (name: string) => makeLabel(now, now.classificationByName.get(name)!, []);
    const nowAll = makeClearance(
      now,
      ALL.map((n) => now.classificationByName.get(n)!),
      [],
    );
    for (const o of room.occupants.values())
      if (o.clearance.status === "known") o.clearance = { ...o.clearance, clearance: nowAll };
    ctx.settings.serviceClearance = nowAll;
    ctx.settings.namedLabels = [
      { name: "UNCLASSIFIED", label: nowLabel("UNCLASSIFIED") },
      { name: "SECRET", label: nowLabel("SECRET") },
    ];
    const service = await readServiceBound(ctx);
    const offered = (jid: string) =>
      roomCatalogElement(
        ctx,
        room,
        room.byJid.get(jid)!.clearance,
        ROOM,
        service,
        room.byJid.get(jid)!.location,
      )
        .getChildren("item")
        .map((i) => i.attrs.selector);
    room.security = {
      ...room.security,
      label: nowLabel("UNCLASSIFIED"),
      clearance: nowAll,
      defaultLabel: undefined,
    };
    assert.deepEqual(offered("alice@example.test/annex"), ["UNCLASSIFIED"]);
    assert.deepEqual(offered("alice@example.test/hq"), ["UNCLASSIFIED", "SECRET"]);
    room.security = { ...room.security, label: nowLabel("SECRET") };
    takeOutUncovered(ctx, room);
    assert.equal(room.byJid.has("alice@example.test/annex"), false);
    assert.equal(room.byJid.has("alice@example.test/hq"), true);
  } finally {
    registry.replaceAll([policy]);
  }
});
