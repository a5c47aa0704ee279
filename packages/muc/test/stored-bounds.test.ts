// Issue 14: a persistent room brings back from the store only what a live stanza could have put
// there under the size bounds; an oversize entry or subject is skipped and counted, never replayed.
// And a groupchat that rendering made grow over the outgoing bound is refused, not sent or stored.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createComponent, parseElement, stanzaLimits, xml } from "@cordon/component";
import type { HistoryEntry } from "../src/room/history.js";
import { historyEntryFits, subjectFits } from "../src/service/stored-bounds.js";
import { loadRooms } from "../src/service/room-sync.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";
import { person, roomWith } from "./room-fixture.js";

const U = label("UNCLASSIFIED");
const ROOM = "ops@rooms.example.test";

function entry(over: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    sid: "AAAAAAAAAAAAAAAA",
    id: "9f0c6d3e-2a7b-4c1e-9d5f-0b8e7a6c5d4f",
    ts: 1,
    nick: "alice",
    occupantId: "oid",
    from: "alice@example.test/r",
    label: "<securitylabel xmlns='urn:xmpp:sec-label:0'/>",
    body: "hello",
    extra: "",
    ...over,
  };
}

test("historyEntryFits: the bounds a live groupchat passes", () => {
  const limits = stanzaLimits();
  assert.equal(historyEntryFits(limits, entry()), true);
  assert.equal(historyEntryFits(limits, entry({ body: "a".repeat(60_000) })), true);
  for (const bad of [
    entry({ id: ">".repeat(140_000) }),
    entry({ body: ">".repeat(300_000) }),
    entry({ body: "<".repeat(17_000) }), // 68,000 bytes escaped: over the 64 KiB body bound
    entry({ nick: "n".repeat(2000) }),
    entry({ extra: `<x xmlns='urn:x'>${"a".repeat(140_000)}</x>` }),
    entry({ body: "a".repeat(60_000), rich: `<html>${"b".repeat(80_000)}</html>` }),
    entry({ from: `${"a".repeat(1023)}@${"b".repeat(1023)}/${"c".repeat(1100)}` }),
  ])
    assert.equal(historyEntryFits(limits, bad), false);
  assert.equal(subjectFits(limits, { text: "topic", nick: "alice" }), true);
  assert.equal(subjectFits(limits, { text: "&".repeat(4000), nick: "alice" }), false);
});

test("loading a persistent room skips and counts oversize history entries and an oversize subject", async () => {
  const ctx = capturingContext(registry, policy, { domain: "rooms.example.test", defaultRoomLabel: U });
  const skipped: [string, number][] = [];
  const observed = {
    ...ctx,
    observer: {
      decision() {},
      fanout() {},
      skipped: (w: "history" | "subject", n: number) => void skipped.push([w, n]),
    },
  };
  await ctx.store.putRoom({
    jid: ROOM,
    config: { subject: ">".repeat(100_000), subjectNick: "mallory", historyLength: 20 },
    affiliations: {},
    persistent: true,
  });
  for (const e of [
    entry({ sid: "s1", id: "kept" }),
    entry({ sid: "s2", id: "poison", body: ">".repeat(300_000) }),
    entry({ sid: "s3", id: ">".repeat(140_000) }),
    entry({ sid: "s4", id: "later" }),
  ])
    await ctx.store.appendRoomHistory(ROOM, JSON.stringify(e), 20);
  await loadRooms(observed);
  const room = ctx.rooms.get(ROOM);
  assert.ok(room);
  assert.deepEqual(
    room.history.map((e) => e.id),
    ["kept", "later"],
  );
  assert.deepEqual(room.subject, { text: "", nick: "" });
  assert.deepEqual(skipped, [
    ["subject", 1],
    ["history", 2],
  ]);
});

test("a groupchat over the outgoing bound once rendered is refused, neither sent nor stored", async () => {
  const base = capturingContext(registry, policy, {
    domain: "rooms.example.test",
    defaultRoomLabel: U,
    defaultMessageLabel: U,
  });
  const component = createComponent({
    service: "xmpp://127.0.0.1:1",
    domain: "rooms.example.test",
    secret: "unused",
    maxStanzaBytes: 16_384,
  });
  const ctx = { ...base, component };
  const hi = person("hi", clearance(ALL));
  const room = roomWith(ctx, [hi]);
  const send = (id: string, body: string) =>
    onGroupchat(
      ctx,
      room,
      hi,
      xml("message", { from: hi.jid, to: ROOM, type: "groupchat", id }, xml("body", {}, body)),
    );
  await send("small", "fits");
  await send("large", "a".repeat(17_000));
  assert.deepEqual(
    base.sent.map((s) => parseElement(s).attrs.id),
    ["small"],
  );
  assert.deepEqual(
    room.history.map((e) => e.id),
    ["small"],
  );
  assert.equal(base.refused[0]?.spec.condition, "policy-violation");
});
