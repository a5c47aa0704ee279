// Issue 15 item 4: a message that refers to a hidden one (XEP-0308 correction, XEP-0461 reply with
// its XEP-0428 fallback quote, XEP-0444 reaction, XEP-0333 marker, XEP-0424 retraction, by id or
// XEP-0359 stanza-id) is judged on the referenced message's label too. Real handlers and policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, type Element } from "@cordon/component";
import type { Label } from "@cordon/policy";
import type { Room } from "../src/room/room.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onPrivateMessage } from "../src/service/private-message.js";
import { historyStanzas } from "../src/service/history-replay.js";
import { readServiceBound } from "../src/security/service-clearance.js";
import { labelDominates, referencedIds } from "../src/security/message-references.js";
import { ReferenceIndex } from "../src/room/reference-index.js";
import type { CapturingContext } from "./muc-test-context.js";
import { label, clearance, labelXml, ALL } from "./fixtures.js";
import { ROOM, person, roomWith, unclassifiedContext } from "./room-fixture.js";

const U = label("UNCLASSIFIED");
const S = label("SECRET");
const TS = label("TOP SECRET");

function setup(): { ctx: CapturingContext; room: Room; hi: Occupant; lo: Occupant } {
  const ctx = unclassifiedContext();
  const hi = person("hi", clearance(ALL));
  const lo = person("lo", clearance(["UNCLASSIFIED"]));
  const room = roomWith(ctx, [hi, lo]);
  return { ctx, room, hi, lo };
}

const say = (
  ctx: CapturingContext,
  room: Room,
  from: Occupant,
  id: string,
  body: string | undefined,
  l: Label | undefined,
  ...payload: Element[]
) =>
  onGroupchat(
    ctx,
    room,
    from,
    xml(
      "message",
      { from: from.jid, to: ROOM, type: "groupchat", id },
      ...(body !== undefined ? [xml("body", {}, body)] : []),
      ...(l ? [parseElement(labelXml(l))] : []),
      ...payload,
    ),
  );
const toJid = (ctx: CapturingContext, jid: string) => ctx.sent.filter((s) => s.includes(`to="${jid}"`));
const sidOf = (ctx: CapturingContext, id: string): string =>
  parseElement(ctx.sent.find((s) => s.includes(`id="${id}"`))!).getChild("stanza-id")!.attrs.id!;

test("a correction, reply, reaction, marker or retraction of a SECRET message, labelled below it, is refused and reaches no one", async () => {
  const referring: [string, (id: string, sid: string) => Element[], string | undefined][] = [
    [
      "XEP-0308 correction",
      (id) => [xml("replace", { xmlns: "urn:xmpp:message-correct:0", id })],
      "corrected SECRET-TEXT",
    ],
    [
      "XEP-0461 reply with fallback quote",
      (_id, sid) => [
        xml("reply", { xmlns: "urn:xmpp:reply:0", to: `${ROOM}/hi`, id: sid }),
        xml(
          "fallback",
          { xmlns: "urn:xmpp:fallback:0", for: "urn:xmpp:reply:0" },
          xml("body", { start: "0", end: "14" }),
        ),
      ],
      "> SECRET-TEXT\nok",
    ],
    [
      "XEP-0444 reaction",
      (_id, sid) => [xml("reactions", { xmlns: "urn:xmpp:reactions:0", id: sid }, xml("reaction", {}, "👍"))],
      undefined,
    ],
    [
      "XEP-0333 marker",
      (_id, sid) => [xml("displayed", { xmlns: "urn:xmpp:chat-markers:0", id: sid })],
      undefined,
    ],
    [
      "XEP-0424 retraction",
      (_id, sid) => [xml("retract", { xmlns: "urn:xmpp:message-retract:1", id: sid })],
      undefined,
    ],
  ];
  for (const [what, payload, body] of referring) {
    const { ctx, room, hi, lo } = setup();
    await say(ctx, room, hi, "s1", "SECRET-TEXT", S);
    const sid = sidOf(ctx, "s1");
    ctx.sent.length = 0;
    await say(ctx, room, hi, "r1", body, undefined, ...payload("s1", sid));
    assert.equal(toJid(ctx, lo.jid).length, 0, `${what}: reached the UNCLASSIFIED occupant`);
    assert.equal(toJid(ctx, hi.jid).length, 0, `${what}: echoed to the sender`);
    assert.equal(ctx.refused.length, 1, `${what}: refused`);
    assert.equal(ctx.refused[0]!.spec.condition, "forbidden");
    assert.ok(!JSON.stringify(ctx.refused[0]!.spec).includes(sid), `${what}: the error names the stanza-id`);
    assert.equal(room.history.length, 1, `${what}: kept in history`);
    // Labelled at (or above) the referenced message, it goes to those cleared for both.
    ctx.refused.length = 0;
    await say(ctx, room, hi, "r2", body, S, ...payload("s1", sid));
    assert.equal(ctx.refused.length, 0, what);
    assert.equal(toJid(ctx, hi.jid).length, 1, what);
    assert.equal(toJid(ctx, lo.jid).length, 0, what);
  }
});

test("references to readable messages pass; an unknown reference is judged on its own label", async () => {
  const { ctx, room, hi, lo } = setup();
  await say(ctx, room, lo, "u1", "hello", undefined);
  ctx.sent.length = 0;
  await say(
    ctx,
    room,
    hi,
    "r1",
    "fixed",
    undefined,
    xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "u1" }),
  );
  assert.equal(toJid(ctx, lo.jid).length, 1);
  ctx.sent.length = 0;
  await say(
    ctx,
    room,
    lo,
    "r2",
    "?",
    undefined,
    xml("reactions", { xmlns: "urn:xmpp:reactions:0", id: "never-seen" }),
  );
  assert.equal(ctx.refused.length, 0);
  assert.equal(toJid(ctx, hi.jid).length, 1);
});

test("no oracle: a reference to a message the sender may not read is treated as unknown", async () => {
  const { ctx, room, hi, lo } = setup();
  await say(ctx, room, hi, "s1", "SECRET-TEXT", S);
  const sid = sidOf(ctx, "s1");
  ctx.sent.length = 0;
  await say(
    ctx,
    room,
    lo,
    "r1",
    undefined,
    undefined,
    xml("displayed", { xmlns: "urn:xmpp:chat-markers:0", id: sid }),
  );
  await say(
    ctx,
    room,
    lo,
    "r2",
    undefined,
    undefined,
    xml("displayed", { xmlns: "urn:xmpp:chat-markers:0", id: "nothing" }),
  );
  assert.equal(ctx.refused.length, 0, "the same answer as for an id that does not exist");
});

test("history replay and live delivery withhold a message from a reader who may not read what it refers to", async () => {
  const { ctx, room, hi } = setup();
  // Clearance sets are sets (X.841 as the corpus defines it): SECRET alone does not hold UNCLASSIFIED.
  const sOnly = person("sonly", clearance(["SECRET"]));
  room.add(sOnly);
  await say(ctx, room, hi, "u1", "UNCLASSIFIED-TEXT", U);
  ctx.sent.length = 0;
  await say(ctx, room, hi, "r1", "SECRET-REPLY", S, xml("reply", { xmlns: "urn:xmpp:reply:0", id: "u1" }));
  assert.equal(toJid(ctx, hi.jid).length, 1);
  assert.equal(toJid(ctx, sOnly.jid).length, 0, "live");
  const replay = historyStanzas(ctx, room, sOnly, {}, await readServiceBound(ctx));
  assert.equal(replay.length, 0, "history");
  assert.deepEqual(room.history.at(-1)?.refs?.length, 1);
});

test("a private message referring to a SECRET message is refused below its label, and to a recipient who may not read it", async () => {
  const { ctx, room, hi, lo } = setup();
  await say(ctx, room, hi, "s1", "SECRET-TEXT", S);
  ctx.sent.length = 0;
  const pm = (l: Label | undefined) =>
    xml(
      "message",
      { from: hi.jid, to: `${ROOM}/lo`, type: "chat", id: "p1" },
      xml("body", {}, "> SECRET-TEXT"),
      xml("reply", { xmlns: "urn:xmpp:reply:0", id: "s1" }),
      ...(l ? [parseElement(labelXml(l))] : []),
    );
  await onPrivateMessage(ctx, room, hi, pm(undefined), "lo");
  assert.equal(ctx.refused.at(-1)?.spec.condition, "forbidden");
  assert.equal(toJid(ctx, lo.jid).length, 0);
});

test("labelDominates: hierarchy, restrictive categories, releasability", () => {
  assert.ok(labelDominates(S, U));
  assert.ok(labelDominates(S, label("SECRET")));
  assert.ok(!labelDominates(U, S));
  assert.ok(labelDominates(TS, S));
  assert.ok(labelDominates(label("SECRET", "ALPHA"), label("SECRET")));
  assert.ok(!labelDominates(label("SECRET"), label("SECRET", "ALPHA")));
  assert.ok(!labelDominates(label("TOP SECRET"), label("SECRET", "ALPHA")));
  // Releasability: less releasable dominates more releasable, not the other way.
  assert.ok(labelDominates(label("SECRET", "GBR"), label("SECRET", "GBR", "USA")));
  assert.ok(!labelDominates(label("SECRET", "GBR", "USA"), label("SECRET", "GBR")));
  assert.ok(!labelDominates(label("SECRET"), label("SECRET", "GBR")));
});

test("referencedIds: every id below the top level but the room's own elements; bounded", () => {
  const m = parseElement(
    "<message id='top'><body>x</body><replace xmlns='urn:xmpp:message-correct:0' id='a'/><origin-id xmlns='urn:xmpp:sid:0' id='own'/><apply-to xmlns='urn:xmpp:fasten:0' id='b'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to></message>",
  );
  assert.deepEqual(referencedIds(m)?.sort(), ["a", "b"]);
  const many = xml(
    "message",
    {},
    ...Array.from({ length: 20 }, (_, i) => xml("x", { xmlns: "urn:x", id: `i${i}` })),
  );
  assert.equal(referencedIds(many), undefined);
});

test("the reference index is bounded in bytes and remembers the labels it forgot", () => {
  const index = new ReferenceIndex(2000);
  for (let i = 0; i < 50; i++) index.add([`sid-${i}`, `id-${i}`], i === 0 ? "<SECRET/>" : "<U/>");
  assert.ok(index.bytes <= 2000);
  assert.deepEqual(index.lookup("sid-0"), []);
  assert.deepEqual(index.lookup("sid-49"), ["<U/>"]);
  assert.deepEqual([...(index.forgotten() ?? [])].sort(), ["<SECRET/>", "<U/>"]);
  const full = new ReferenceIndex(200);
  for (let i = 0; i < 100; i++) full.add([`k${i}`], `<L${i}/>`);
  assert.equal(full.forgotten(), undefined, "too many distinct labels forgotten: unknown references refused");
});

test("a reference to a forgotten message is judged against the forgotten labels", async () => {
  const { ctx, room, hi, lo } = setup();
  await say(ctx, room, hi, "s1", "SECRET-TEXT", S);
  // Push the SECRET message out of the index and history.
  room.history.length = 0;
  (room as { references: ReferenceIndex }).references = new ReferenceIndex(400);
  room.references.add(["s1"], ctx.rendering.securityLabelXml(S));
  for (let i = 0; i < 10; i++) room.references.add([`u${i}`], ctx.rendering.securityLabelXml(U));
  assert.deepEqual(room.references.lookup("s1"), []);
  ctx.sent.length = 0;
  await say(
    ctx,
    room,
    hi,
    "r1",
    "fix",
    undefined,
    xml("replace", { xmlns: "urn:xmpp:message-correct:0", id: "s1" }),
  );
  assert.equal(ctx.refused.at(-1)?.spec.condition, "forbidden");
  assert.equal(toJid(ctx, lo.jid).length, 0);
});
