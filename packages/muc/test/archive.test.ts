// XEP-0313 queries to a labelled room: each requester reads only what its clearance grants, in the
// form its client can show (label for label-aware clients, FLOT otherwise), with XEP-0059 paging.
// Real handlers, real policy engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, StanzaErrorException, type Element, type IqRequest } from "@cordon/component";
import { labelMarking } from "@cordon/policy";
import type { Room } from "../src/room/room.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { queryArchive } from "../src/service/archive.js";
import type { CapturingContext } from "./muc-test-context.js";
import { label, clearance, labelXml, ALL } from "./fixtures.js";
import { ROOM, person, roomWith, unclassifiedContext } from "./room-fixture.js";

const NS_MAM = "urn:xmpp:mam:2";
const NS_RSM = "http://jabber.org/protocol/rsm";
const NS_FORWARD = "urn:xmpp:forward:0";
const NS_SL = "urn:xmpp:sec-label:0";
const U = label("UNCLASSIFIED");
const S = label("SECRET");

/** A room whose history holds m0..m5: even ones UNCLASSIFIED, odd ones SECRET (the test clock ticks a second per reading). */
async function setup(): Promise<{ ctx: CapturingContext; room: Room; hi: Occupant; lo: Occupant }> {
  const ctx = unclassifiedContext();
  const hi = person("hi", clearance(ALL), true);
  const lo = person("lo", clearance(["UNCLASSIFIED"]), false);
  const room = roomWith(ctx, [hi, lo], { historyLength: 50 });
  for (let i = 0; i < 6; i++) {
    const l = i % 2 === 0 ? U : S;
    await onGroupchat(
      ctx,
      room,
      hi,
      xml(
        "message",
        { from: hi.jid, to: ROOM, type: "groupchat", id: `m${i}` },
        xml("body", {}, `text ${i}`),
        parseElement(labelXml(l)),
      ),
    );
  }
  ctx.sent.length = 0;
  return { ctx, room, hi, lo };
}

function request(
  from: string,
  fields: Record<string, string> = {},
  set?: Element,
  queryid = "q1",
): IqRequest {
  const form = Object.keys(fields).length
    ? xml(
        "x",
        { xmlns: "jabber:x:data", type: "submit" },
        xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_MAM)),
        ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))),
      )
    : undefined;
  const payload = xml("query", { xmlns: NS_MAM, queryid }, form, set);
  const stanza = xml("iq", { type: "set", id: "iq1", from, to: ROOM }, payload);
  return { stanza, payload, type: "set", from, to: ROOM, id: "iq1" };
}
const rsm = (children: Record<string, string>) =>
  xml("set", { xmlns: NS_RSM }, ...Object.entries(children).map(([k, v]) => xml(k, {}, v)));

/** The forwarded messages the last query sent, in order. */
function results(ctx: CapturingContext, to: string): { result: Element; inner: Element }[] {
  return ctx.sent
    .map(parseElement)
    .filter((m) => m.attrs.to === to)
    .map((m) => {
      const result = m.getChild("result", NS_MAM)!;
      return { result, inner: result.getChild("forwarded", NS_FORWARD)!.getChild("message")! };
    });
}

test("each requester reads only what its clearance grants: labels for the aware, FLOT for the others", async () => {
  const { ctx, room, hi, lo } = await setup();
  const finHi = await queryArchive(ctx, room, request(hi.jid));
  const forHi = results(ctx, hi.jid);
  assert.deepEqual(
    forHi.map((r) => r.inner.attrs.id),
    ["m0", "m1", "m2", "m3", "m4", "m5"],
  );
  assert.equal(finHi.getChild("set", NS_RSM)?.getChildText("count"), "6");
  assert.equal(finHi.attrs.complete, "true");
  for (const { result, inner } of forHi) {
    assert.equal(result.attrs.queryid, "q1");
    assert.equal(
      inner.attrs.to,
      undefined,
      "a forwarded archive message has no 'to' (XEP-0313 §MUC Archives)",
    );
    assert.equal(inner.attrs.from, `${ROOM}/hi`);
    assert.equal(
      result.attrs.id,
      inner.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id,
      "the archive id is the stanza-id",
    );
    assert.ok(inner.getChild("securitylabel", NS_SL), "label-aware: the label");
  }
  ctx.sent.length = 0;
  const finLo = await queryArchive(ctx, room, request(lo.jid));
  const forLo = results(ctx, lo.jid);
  assert.deepEqual(
    forLo.map((r) => r.inner.attrs.id),
    ["m0", "m2", "m4"],
    "nothing SECRET",
  );
  assert.equal(
    finLo.getChild("set", NS_RSM)?.getChildText("count"),
    "3",
    "the count reveals nothing beyond what may be read",
  );
  for (const { inner } of forLo) {
    assert.equal(inner.getChild("securitylabel", NS_SL), undefined);
    assert.ok(inner.getChildText("body")!.startsWith(`${labelMarking(U)}\n`), "FLOT");
  }
  assert.ok(!ctx.sent.some((s) => s.includes("text 1") || s.includes("text 3") || s.includes("text 5")));
});

test("paging (XEP-0059): max, after, before, the last page; unknown ids are item-not-found", async () => {
  const { ctx, room, hi, lo } = await setup();
  const ids = (jid: string) => results(ctx, jid).map((r) => r.inner.attrs.id);
  let fin = await queryArchive(ctx, room, request(hi.jid, {}, rsm({ max: "2" })));
  assert.deepEqual(ids(hi.jid), ["m0", "m1"]);
  assert.equal(fin.attrs.complete, undefined);
  const last = fin.getChild("set", NS_RSM)!.getChildText("last")!;
  assert.equal(fin.getChild("set", NS_RSM)!.getChild("first")?.attrs.index, "0");
  ctx.sent.length = 0;
  fin = await queryArchive(ctx, room, request(hi.jid, {}, rsm({ max: "10", after: last })));
  assert.deepEqual(ids(hi.jid), ["m2", "m3", "m4", "m5"]);
  assert.equal(fin.attrs.complete, "true");
  ctx.sent.length = 0;
  fin = await queryArchive(ctx, room, request(lo.jid, {}, rsm({ max: "2", before: "" })));
  assert.deepEqual(ids(lo.jid), ["m2", "m4"], "the last page of what lo may read");
  assert.equal(fin.getChild("set", NS_RSM)!.getChild("first")?.attrs.index, "1");
  // The id of a SECRET message is not in lo's archive.
  const secretSid = room.history[1]!.sid;
  await assert.rejects(
    queryArchive(ctx, room, request(lo.jid, {}, rsm({ after: secretSid }))),
    (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "item-not-found",
  );
  await assert.rejects(
    queryArchive(ctx, room, request(hi.jid, {}, rsm({ max: "-1" }))),
    (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "bad-request",
  );
});

test("filters: start, end and with (an occupant JID of the room)", async () => {
  const { ctx, room, hi } = await setup();
  const ids = () => results(ctx, hi.jid).map((r) => r.inner.attrs.id);
  const ts = (i: number) => new Date(room.history[i]!.ts).toISOString();
  await queryArchive(ctx, room, request(hi.jid, { start: ts(2), end: ts(4) }));
  assert.deepEqual(ids(), ["m2", "m3", "m4"]);
  ctx.sent.length = 0;
  await queryArchive(ctx, room, request(hi.jid, { with: `${ROOM}/nobody` }));
  assert.deepEqual(ids(), []);
  await assert.rejects(
    queryArchive(ctx, room, request(hi.jid, { with: "someone@else.test" })),
    (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "bad-request",
  );
  await assert.rejects(
    queryArchive(ctx, room, request(hi.jid, { start: "yesterday" })),
    (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "bad-request",
  );
});

test("only occupants may query; an occupant whose clearance is unknown is told to wait", async () => {
  const { ctx, room, lo } = await setup();
  await assert.rejects(
    queryArchive(ctx, room, request("stranger@example.test/r")),
    (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "forbidden",
  );
  lo.clearance = { status: "unknown", reason: "store down" };
  await assert.rejects(
    queryArchive(ctx, room, request(lo.jid)),
    (e: unknown) =>
      e instanceof StanzaErrorException &&
      e.spec.condition === "internal-server-error" &&
      e.spec.type === "wait",
  );
  assert.equal(ctx.sent.length, 0, "nothing was sent");
});

// Issue 14: the queryid goes into every result beside a stored message, so it is bounded like an id.
test("a queryid over the id bound is refused with policy-violation, nothing sent", async () => {
  const { ctx, room, hi } = await setup();
  await assert.rejects(
    queryArchive(ctx, room, request(hi.jid, {}, undefined, ">".repeat(140_000))),
    (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "policy-violation",
  );
  assert.equal(ctx.sent.length, 0);
  await queryArchive(ctx, room, request(hi.jid, {}, undefined, "9f0c6d3e-2a7b-4c1e-9d5f-0b8e7a6c5d4f"));
  assert.ok(ctx.sent.length > 0);
});
