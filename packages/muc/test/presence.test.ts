// Issue 15 item 1 (b): a join reads the joiner's clearance, then adds the occupant; a lowering
// notified in between (found no occupant to update) must not let the join complete on the older
// answer. Driven with a directory and a store whose answers are slow and come back in any order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml } from "@cordon/component";
import { onRoomPresence } from "../src/service/presence.js";
import { raceContext, roomWith, seat, raw } from "./race-context.js";
import { settle } from "./slow-directory.js";
import { label, clearance, ALL } from "./fixtures.js";

const S = label("SECRET");

const joinStanza = (from: string, room: string, nick: string) =>
  xml("presence", { from, to: `${room}/${nick}` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" }));

test("(b) a remote joiner lowered while its peer clearance is read is judged on the lowered clearance", async (t) => {
  const r = raceContext();
  t.after(() => r.watch.stop());
  const room = roomWith(r.ctx, "vault", S);
  r.dir.set("owner@example.test", raw(clearance(ALL)));
  r.dir.releaseNewestFirst();
  seat(room, "owner", clearance(ALL));
  // Users of partner.test fall back on the peer's inbound clearance (SECRET); the store is slow.
  await r.store.setPeerClearance("partner.test", "inbound", raw(clearance(ALL)));
  const peerReads: (() => void)[] = [];
  const getPeer = r.store.getPeerClearance.bind(r.store);
  r.store.getPeerClearance = (domain, direction) =>
    new Promise((resolve) => peerReads.push(() => void getPeer(domain, direction).then(resolve)));
  const bob = "bob@partner.test";
  const joined = onRoomPresence(r.ctx, joinStanza(`${bob}/r`, room.jid, "bob"), room.jid, "bob");
  await settle();
  r.dir.releaseNewestFirst(bob); // no clearance of his own yet: the peer's is read next
  await settle();
  assert.equal(peerReads.length, 1);
  // Now the directory gives Bob a clearance of his own, UNCLASSIFIED only.
  r.dir.set(bob, raw(clearance(["UNCLASSIFIED"])));
  await settle();
  for (let i = 0; i < 10 && (peerReads.length > 0 || r.dir.reads.length > 0); i++) {
    peerReads.splice(0).forEach((release) => release());
    r.dir.releaseNewestFirst();
    await settle();
  }
  await joined;
  assert.equal(room.byJid.has("owner@example.test/r"), true);
  assert.equal(
    room.byJid.has(`${bob}/r`),
    false,
    "admitted on the peer clearance he no longer falls back on",
  );
  assert.equal(r.ctx.refused.at(-1)?.spec.condition, "forbidden");
  assert.equal(
    r.ctx.sent.some((s) => s.includes(`to="${bob}/r"`)),
    false,
    "the joiner was sent room content",
  );
});

test("(b) a join whose clearance keeps changing while it is read is refused with wait, never admitted", async (t) => {
  const r = raceContext();
  t.after(() => r.watch.stop());
  const room = roomWith(r.ctx, "vault", S);
  seat(room, "owner", clearance(ALL));
  r.dir.set("owner@example.test", raw(clearance(ALL)));
  const carol = "carol@example.test";
  r.dir.set(carol, raw(clearance(ALL)));
  r.dir.releaseNewestFirst();
  const joined = onRoomPresence(r.ctx, joinStanza(`${carol}/r`, room.jid, "carol"), room.jid, "carol");
  for (let i = 0; i < 12; i++) {
    await settle();
    // Every answer is overtaken by another change before it is released.
    r.dir.set(carol, raw(clearance(i % 2 ? ALL : ["UNCLASSIFIED"])));
    r.dir.releaseNewestFirst();
  }
  await joined;
  assert.equal(room.byJid.has(`${carol}/r`), false);
  assert.equal(r.ctx.refused.at(-1)?.spec.type, "wait");
});
