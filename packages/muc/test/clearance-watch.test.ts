// Issue 15 item 1: a clearance lowering is never undone by a race with a slow directory whose
// answers come back in any order. (a) A whole-room re-read in flight when a user was lowered does
// not write the old answer back; (c) a lowering is applied to every room before any removal
// presence is written; and an occupant's clearance is unknown from the notification until its
// re-read answers, so nothing labelled reaches them meanwhile.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement } from "@cordon/component";
import { MemoryStore, type StoreListener, type Unsubscribe } from "@cordon/store";
import { onGroupchat } from "../src/service/groupchat.js";
import type { Room } from "../src/room/room.js";
import type { Occupant } from "../src/room/occupant.js";
import { raceContext, roomWith, seat, raw, U, type RaceContext } from "./race-context.js";
import { settle } from "./slow-directory.js";
import { label, clearance, labelXml, ALL } from "./fixtures.js";

const S = label("SECRET");
const LOW = clearance(["UNCLASSIFIED"]);
const HIGH = clearance(ALL);

async function say(r: RaceContext, room: Room, sender: Occupant, id: string): Promise<string[]> {
  const before = r.ctx.sent.length;
  await onGroupchat(
    r.ctx,
    room,
    sender,
    xml(
      "message",
      { from: sender.jid, to: room.jid, type: "groupchat", id },
      xml("body", {}, `${id}-TEXT`),
      parseElement(labelXml(S)),
    ),
  );
  return r.ctx.sent
    .slice(before)
    .map(parseElement)
    .filter((s) => s.getChildText("body")?.includes(`${id}-TEXT`))
    .map((s) => s.attrs.to ?? "");
}

test("(a) a whole-room re-read in flight when a user is lowered does not write the old clearance back", async (t) => {
  const r = raceContext();
  t.after(() => r.watch.stop());
  const room = roomWith(r.ctx, "ops", U);
  const alice = seat(room, "alice", HIGH);
  const bob = seat(room, "bob", HIGH);
  r.dir.set(alice.bare, raw(HIGH));
  r.dir.set(bob.bare, raw(HIGH));
  r.dir.releaseNewestFirst();
  await settle();
  // A periodic re-read of every occupant: Bob's answer (SECRET) comes back at once, Alice's is slow.
  const whole = r.watch.refresh();
  await settle();
  r.dir.reads.find((x) => x.jid === bob.bare)!.release();
  await settle();
  // Meanwhile Bob is lowered; his own re-read answers first.
  r.dir.set(bob.bare, raw(LOW));
  await settle();
  r.dir.releaseNewestFirst(bob.bare);
  await settle();
  assert.equal(bob.clearance.status === "known" && bob.clearance.fingerprint, `ber:${raw(LOW).data}`);
  // Then the whole-room re-read completes, with Bob's old answer in it.
  r.dir.releaseNewestFirst();
  await whole;
  await settle();
  assert.equal(
    bob.clearance.status === "known" && bob.clearance.fingerprint,
    `ber:${raw(LOW).data}`,
    "the old clearance was written back",
  );
  assert.deepEqual(await say(r, room, alice, "s1"), [alice.jid], "a SECRET message reached the lowered Bob");
});

test("(c) a lowering removes the user from every room before any removal presence is written", async (t) => {
  const r = raceContext();
  t.after(() => r.watch.stop());
  const rooms = ["north", "south"].map((n) => roomWith(r.ctx, n, S));
  const people = rooms.map((room) => ({ alice: seat(room, "alice", HIGH), bob: seat(room, "bob", HIGH) }));
  r.dir.fast = true;
  r.dir.setQuietly("alice@example.test", raw(HIGH));
  // The link is slow: nothing written completes until released.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const send = r.ctx.send.bind(r.ctx);
  r.ctx.send = async (stanzas) => {
    await gate;
    await send(stanzas);
  };
  // The directory lowers Bob without a notification reaching us: the periodic re-read finds it.
  r.dir.setQuietly("bob@example.test", raw(LOW));
  void r.watch.refresh();
  await settle();
  for (const [i, room] of rooms.entries())
    assert.equal(room.byJid.has(people[i]!.bob.jid), false, `Bob still in ${room.jid} while removals wait`);
  // The other room delivers nothing to Bob meanwhile.
  const delivered = say(r, rooms[1]!, people[1]!.alice, "s2");
  open();
  assert.deepEqual(await delivered, [people[1]!.alice.jid]);
});

test("from a change notification until the re-read answers, the occupant receives nothing labelled", async (t) => {
  const r = raceContext();
  t.after(() => r.watch.stop());
  const rooms = ["east", "west"].map((n) => roomWith(r.ctx, n, U));
  const seats = rooms.map((room) => ({ alice: seat(room, "alice", HIGH), bob: seat(room, "bob", HIGH) }));
  r.dir.set("bob@example.test", raw(LOW));
  for (const s of seats) assert.equal(s.bob.clearance.status, "unknown", "Bob's old clearance still held");
  for (const [i, room] of rooms.entries())
    assert.deepEqual(await say(r, room, seats[i]!.alice, `p${i}`), [seats[i]!.alice.jid]);
  r.dir.releaseNewestFirst();
  await settle();
  for (const s of seats) assert.equal(s.bob.clearance.status, "known");
  assert.deepEqual(await say(r, rooms[0]!, seats[0]!.alice, "p9"), [seats[0]!.alice.jid]);
});

test("the store's connection lost: occupants' clearances unknown at once, re-read, not a second later", async (t) => {
  // The watch hears the connection through the store's own subscription (MemoryStore never loses
  // one): its listeners are taken here to tell them what a RedisStore would.
  const listeners: StoreListener[] = [];
  const proto = MemoryStore.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, "subscribe")!;
  const subscribe = own.value as (this: MemoryStore, listener: StoreListener) => Unsubscribe;
  Object.defineProperty(proto, "subscribe", {
    ...own,
    value(this: MemoryStore, listener: StoreListener) {
      listeners.push(listener);
      return subscribe.call(this, listener);
    },
  });
  let r: RaceContext;
  try {
    r = raceContext();
  } finally {
    Object.defineProperty(proto, "subscribe", own);
  }
  t.after(() => r.watch.stop());
  const room = roomWith(r.ctx, "ops", U);
  const alice = seat(room, "alice", HIGH);
  const bob = seat(room, "bob", HIGH);
  r.dir.fast = true;
  r.dir.setQuietly(alice.bare, raw(HIGH));
  // Bob lowered while the notification channel is lost: the notification is never heard.
  r.dir.setQuietly(bob.bare, raw(LOW));
  assert.ok(listeners.length > 0, "the watch subscribed to the store");
  for (const listener of listeners) listener({ kind: "connection", state: "down" });
  // Was: Bob kept SECRET until the first outage re-read, a second later.
  // (Alice's own clearance is re-read too: until it answers her message goes to nobody.)
  const got = await say(r, room, alice, "d1");
  assert.ok(!got.includes(bob.jid), "SECRET reached Bob after the connection was lost");
  await settle();
  assert.equal(
    bob.clearance.status === "known" && bob.clearance.fingerprint,
    `ber:${raw(LOW).data}`,
    "re-read at once",
  );
});
