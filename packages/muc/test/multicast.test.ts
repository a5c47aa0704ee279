// XEP-0033 multicast of the fan-out (src/service/multicast.ts): grouping into chunks, the outer
// stanza, the bookkeeping of sent stanzas for their errors (bounded, expiring, one error releases
// one chunk), the re-check before a refused chunk goes per copy, and the circuit breaker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, xml } from "@cordon/component";
import type { Clearance } from "@cordon/policy";
import { Room as RoomClass } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onMulticastError } from "../src/service/multicast.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, labelXml, ALL } from "./fixtures.js";
import {
  BREAKER,
  Breaker,
  chunks,
  keyOf,
  Multicast,
  MulticastBook,
  multicastStanza,
  NS_ADDRESS,
  type CopyGroup,
} from "../src/service/multicast.js";
import type { Occupant } from "../src/room/occupant.js";
import type { Room } from "../src/room/room.js";

const occupant = (name: string): Occupant => ({
  nick: name,
  jid: `${name}@example.test/r`,
  bare: `${name}@example.test`,
  role: "participant",
  affiliation: "none",
  occupantId: `occ-${name}`,
  clearance: { status: "unknown" } as Occupant["clearance"],
  labelAware: false,
  presenceXml: "",
  joinedAt: 0,
});

/** A room as the error path reads it: its JID, whether destroyed, occupants by real JID. */
const roomOf = (jid: string, occupants: Occupant[]): Room =>
  ({ jid, destroyed: false, byJid: new Map(occupants.map((o) => [o.jid, o])) }) as unknown as Room;

const START = '<message from="r@rooms.example.test/nick" type="groupchat" id="m1"';
const PAYLOAD = '"><body>hi &amp; bye</body></message>';
const SERVICE = "multicast.example.test";
const settings = { service: SERVICE, chunk: 3, timeoutMs: 5000, maxBytes: 1 << 20 };
/** As after start() found the service by disco#info (multicast-discovery.ts). */
const VERIFIED = { verified: true };
const group = (recipients: Occupant[], check: (o: Occupant) => boolean = () => true): CopyGroup => ({
  payload: PAYLOAD,
  recipients,
  check,
});

test("chunks: consecutive slices of at most `size`", () => {
  assert.deepEqual(chunks([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6], [7]]);
  assert.deepEqual(chunks([1, 2], 20), [[1, 2]]);
  assert.deepEqual(chunks([], 20), []);
});

test("the outer stanza: to the service, the copy's payload, only bcc addresses, JIDs escaped", () => {
  const s = multicastStanza(START, SERVICE, PAYLOAD, ['a"b@example.test/<r>', "c@example.test/r"]);
  const el = parseElement(s);
  assert.equal(el.attrs.to, SERVICE);
  assert.equal(el.attrs.from, "r@rooms.example.test/nick");
  assert.equal(el.attrs.id, "m1", "the sender's id: ejabberd copies the outer id to every recipient");
  assert.equal(el.getChildText("body"), "hi & bye");
  const addresses = el.getChild("addresses", NS_ADDRESS)!.getChildren("address");
  assert.deepEqual(
    addresses.map((a) => [a.attrs.type, a.attrs.jid]),
    [
      ["bcc", 'a"b@example.test/<r>'],
      ["bcc", "c@example.test/r"],
    ],
  );
});

test("fanout: groups of two or more go as multicast chunks, groups of one and chunk remainders of one per copy", () => {
  const m = new Multicast(settings, () => true, VERIFIED);
  const people = ["a", "b", "c", "d", "e", "f", "g"].map(occupant);
  const room = roomOf("r@rooms.example.test", people);
  const out = m.fanout(
    room,
    START,
    keyOf("r@rooms.example.test", "m1"),
    [group(people), group([people[0]!])],
    0,
  );
  // 7 → chunks 3, 3, 1: two outer stanzas and one copy; the group of one: one copy.
  assert.equal(out.multicast, 2);
  assert.equal(out.stanzas.length, 4);
  const parsed = out.stanzas.map((s) => parseElement(s));
  const outer = parsed.filter((p) => p.attrs.to === SERVICE);
  assert.deepEqual(
    outer.map((p) =>
      p
        .getChild("addresses", NS_ADDRESS)!
        .getChildren("address")
        .map((a) => a.attrs.jid),
    ),
    [people.slice(0, 3).map((p) => p.jid), people.slice(3, 6).map((p) => p.jid)],
  );
  const single = parsed.filter((p) => p.attrs.to !== SERVICE).map((p) => p.attrs.to);
  assert.deepEqual(single, [people[6]!.jid, people[0]!.jid]);
  for (const p of parsed.filter((q) => q.attrs.to !== SERVICE))
    assert.equal(p.getChild("addresses", NS_ADDRESS), undefined, "a copy carries no header");
  assert.equal(m.book.entries, 2);
});

test("fanout: a stanza over the size bound, or a full book, goes per copy", () => {
  const people = ["a", "b", "c"].map(occupant);
  const room = roomOf("r@rooms.example.test", people);
  const tooBig = new Multicast(settings, (s) => !s.includes("<addresses"), VERIFIED);
  const big = tooBig.fanout(room, START, "k", [group(people)], 0);
  assert.equal(big.multicast, 0);
  assert.deepEqual(
    big.stanzas.map((s) => parseElement(s).attrs.to),
    people.map((p) => p.jid),
  );
  const full = new Multicast({ ...settings, maxBytes: 100 }, () => true, VERIFIED);
  assert.equal(full.fanout(room, START, "k", [group(people)], 0).multicast, 0);
  assert.equal(full.book.bytes, 0);
});

test("the book: bounded in bytes, expires after the timeout, FIFO per key, one take per entry", () => {
  const book = new MulticastBook(4000, 1000);
  const [a, b, c, d] = ["a", "b", "c", "d"].map(occupant) as [Occupant, Occupant, Occupant, Occupant];
  const entry = (recipients: Occupant[], key = "k") => ({
    key,
    room: "r",
    start: START,
    group: group(recipients),
    recipients,
  });
  assert.ok(book.add(entry([a, b]), 0, 100));
  assert.ok(book.add(entry([c, d]), 10, 100));
  assert.ok(book.add(entry([a, b], "other"), 20, 100));
  assert.equal(book.entries, 3);
  const bytes = book.bytes;
  assert.ok(bytes > 300 && bytes <= 4000);
  // The error names c (its first bcc): the second entry of the key, not the oldest.
  assert.deepEqual(book.take("k", c.jid, 30)?.recipients, [c, d]);
  // No address in the error: the oldest of the key.
  assert.deepEqual(book.take("k", undefined, 30)?.recipients, [a, b]);
  assert.equal(book.take("k", undefined, 30), undefined, "each entry is taken once");
  assert.equal(book.entries, 1);
  book.expire(1019);
  assert.equal(book.entries, 1);
  book.expire(1020);
  assert.equal(book.entries, 0);
  assert.equal(book.bytes, 0);
  assert.equal(book.take("other", undefined, 1020), undefined, "expired: the service delivered it");
  // Bounded: past maxBytes nothing more is kept.
  let kept = 0;
  while (book.add(entry([a, b, c, d]), 2000, 500)) kept++;
  assert.ok(kept >= 1 && book.bytes <= 4000, `${kept} kept, ${book.bytes} bytes`);
});

test("an error: the refused chunk per copy, only to recipients that are the same occupants with the same decision now", () => {
  const m = new Multicast(settings, () => true, VERIFIED);
  const people = ["a", "b", "c"].map(occupant) as [Occupant, Occupant, Occupant];
  const room = roomOf("r@rooms.example.test", people);
  const rooms = new Map([[room.jid, room]]);
  const cleared = new Set(people.map((p) => p.jid));
  const key = keyOf("r@rooms.example.test", "m1");
  m.fanout(room, START, key, [group(people, (o) => cleared.has(o.jid))], 0);
  // a left; b's clearance changed; c stays.
  (room.byJid as Map<string, Occupant>).delete(people[0].jid);
  cleared.delete(people[1].jid);
  const error = parseElement(
    `<message from="${SERVICE}" to="r@rooms.example.test/nick" id="m1" type="error"><addresses xmlns="${NS_ADDRESS}"><address type="bcc" jid="${people[0].jid}"/></addresses><error type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
  );
  const result = m.onError(rooms, error, 10);
  assert.ok(result.matched && result.byAddress);
  assert.equal(result.dropped, 2);
  assert.equal(result.copies.length, 1);
  const copy = parseElement(result.copies[0]!);
  assert.equal(copy.attrs.to, people[2].jid);
  assert.equal(copy.attrs.id, "m1");
  assert.equal(copy.getChild("addresses", NS_ADDRESS), undefined);
  assert.equal(
    m.onError(rooms, error, 20).matched,
    false,
    "a second error for the same chunk delivers nothing",
  );
  // A rejoin is a new occupant: not the one the chunk was for.
  const rejoined = { ...people[2] };
  m.fanout(room, START, key, [group([people[2], people[2]])], 30);
  (room.byJid as Map<string, Occupant>).set(rejoined.jid, rejoined);
  assert.equal(m.onError(rooms, error, 40).copies.length, 0);
  // A destroyed room: nothing (a fresh service: three errors opened this one's breaker).
  const fresh = new Multicast(settings, () => true, VERIFIED);
  fresh.fanout(room, START, key, [group([people[2], people[2]])], 50);
  (room.byJid as Map<string, Occupant>).set(people[2].jid, people[2]);
  (room as { destroyed: boolean }).destroyed = true;
  assert.equal(fresh.onError(rooms, error, 60).copies.length, 0);
});

test("the breaker: opens after repeated errors, then per copy until the cooldown is over", () => {
  const breaker = new Breaker();
  let opened = 0;
  for (let i = 0; i < BREAKER.errors; i++) if (breaker.failed(i)) opened++;
  assert.equal(opened, 1);
  assert.ok(breaker.open(BREAKER.errors));
  assert.equal(breaker.failed(BREAKER.errors + 1), false, "no second warning while open");
  assert.ok(!breaker.open(BREAKER.errors + BREAKER.cooldownMs));
  // Errors spread over more than the window do not open it.
  const slow = new Breaker();
  for (let i = 0; i < 10; i++) assert.equal(slow.failed(i * BREAKER.windowMs), false);
  // While open, a fan-out is all copies.
  const m = new Multicast(settings, () => true, VERIFIED);
  for (let i = 0; i < BREAKER.errors; i++) m.breaker.failed(i);
  const people = ["a", "b", "c"].map(occupant);
  const out = m.fanout(roomOf("r", people), START, "k", [group(people)], BREAKER.errors);
  assert.equal(out.multicast, 0);
  assert.equal(out.stanzas.length, 3);
});

test("groupchat with multicast: one stanza per (label decision, client kind) and chunk; a refused chunk re-checked per copy", async () => {
  const U = label("UNCLASSIFIED");
  const TS = label("TOP SECRET");
  const ROOM = "ops@rooms.example.test";
  const base = capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: U });
  const ctx = { ...base, multicast: new Multicast({ ...settings, chunk: 2 }, () => true, VERIFIED) };
  const room = new RoomClass(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  const person = (name: string, c: Clearance, aware: boolean): Occupant => ({
    ...occupant(name),
    clearance: { status: "known", clearance: c, fingerprint: name },
    labelAware: aware,
  });
  const aware = ["a1", "a2", "a3"].map((n) => person(n, clearance(ALL), true));
  const unaware = ["u1", "u2"].map((n) => person(n, clearance(ALL), false));
  const lo = person("lo", clearance(["UNCLASSIFIED"]), false);
  for (const o of [...aware, ...unaware, lo]) room.add(o);
  ctx.rooms.set(ROOM, room);
  await onGroupchat(
    ctx,
    room,
    aware[0]!,
    xml(
      "message",
      { from: aware[0]!.jid, to: ROOM, type: "groupchat", id: "g1" },
      xml("body", {}, "top"),
      parseElement(labelXml(TS)),
    ),
  );
  const sent = ctx.sent.map((x) => parseElement(x));
  const outer = sent.filter((x) => x.attrs.to === SERVICE);
  const bccs = (x: (typeof sent)[number]) =>
    x
      .getChild("addresses", NS_ADDRESS)!
      .getChildren("address")
      .map((a) => [a.attrs.type, a.attrs.jid]);
  // Aware: a chunk of two and a copy; unaware: a chunk of two; lo (not cleared): nothing.
  assert.equal(outer.length, 2);
  assert.deepEqual(
    bccs(outer[0]!),
    aware.slice(0, 2).map((o) => ["bcc", o.jid]),
  );
  assert.deepEqual(
    bccs(outer[1]!),
    unaware.map((o) => ["bcc", o.jid]),
  );
  assert.ok(
    outer[0]!.getChild("securitylabel", "urn:xmpp:sec-label:0"),
    "the aware group's copy has the label",
  );
  assert.equal(outer[1]!.getChild("securitylabel", "urn:xmpp:sec-label:0"), undefined);
  assert.match(outer[1]!.getChildText("body") ?? "", /\ntop$/, "the unaware group's copy is FLOT");
  for (const x of outer) {
    assert.equal(x.attrs.id, "g1");
    assert.equal(x.attrs.from, `${ROOM}/a1`);
  }
  assert.deepEqual(
    sent.filter((x) => x.attrs.to !== SERVICE).map((x) => x.attrs.to),
    [aware[2]!.jid],
  );
  assert.ok(!ctx.sent.some((x) => x.includes(lo.jid)), "the uncleared occupant is in no stanza");
  // The service refuses the unaware chunk (its error addressed to the nick as the server prepared
  // it: matched by room and id); meanwhile u2's clearance was lowered: only u1 gets it.
  unaware[1]!.clearance = { status: "known", clearance: clearance(["UNCLASSIFIED"]), fingerprint: "low" };
  ctx.sent.length = 0;
  const error = parseElement(
    `<message from="${SERVICE}" to="${ROOM}/\uFF41\uFF11" id="g1" type="error">${outer[1]!.getChild("addresses", NS_ADDRESS)!.toString()}<error type="cancel"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
  );
  await onMulticastError(ctx, error);
  const copies = ctx.sent.map((x) => parseElement(x));
  assert.deepEqual(
    copies.map((c) => c.attrs.to),
    [unaware[0]!.jid],
  );
  assert.equal(copies[0]!.getChild("addresses", NS_ADDRESS), undefined);
  assert.equal(copies[0]!.attrs.id, "g1");
  assert.ok(
    copies.every((c) => c.attrs.type === "groupchat"),
    "never an error in reply",
  );
});
