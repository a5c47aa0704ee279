// Review keep15: the multicast book keeps every multicast stanza sent, until an error comes for it
// or it expires — and it expires only when the book is next used: after a burst, what it holds
// stays. Each kept stanza's key (the sender's id) and payload (the sender's text) were views of the
// text the parser read (a substring of 13 characters or more keeps its parent): kept as they came,
// each held its message's whole socket read behind the few bytes the book counts.
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, type Element } from "@cordon/component";
import type { Clearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { Multicast } from "../src/service/multicast.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

test("multicast stanzas kept for their errors do not keep their messages' text alive", async () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const U = label("UNCLASSIFIED");
  const ROOM = "ops@rooms.example.test";
  const base = capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: U });
  const multicast = new Multicast(
    { service: "multicast.example.test", chunk: 20, timeoutMs: 5000, maxBytes: 16 << 20 },
    () => true,
    { verified: true },
  );
  // A clock that stands still (the test context's moves a second a call): none of them expires.
  const ctx = { ...base, multicast, now: () => 0 };
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, historyLength: 0 },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  const person = (name: string, c: Clearance): Occupant => ({
    nick: name,
    jid: `${name}@example.test/r`,
    bare: `${name}@example.test`,
    role: "participant",
    affiliation: "none",
    occupantId: `occ-${name}`,
    clearance: { status: "known", clearance: c, fingerprint: name },
    labelAware: true,
    presenceXml: "",
    joinedAt: 0,
  });
  const people = ["a", "b", "c", "d"].map((n) => person(n, clearance(ALL)));
  for (const o of people) room.add(o);
  ctx.rooms.set(ROOM, room);
  const say = async (i: number): Promise<void> => {
    const parser = createParser();
    let message: Element | undefined;
    parser.on("start", () => undefined);
    parser.on("element", (el) => {
      if (el.attrs.type === "groupchat") message = el;
    });
    parser.write(
      `<stream><message><body>${"x".repeat(200_000)}</body></message>` +
        `<message from='a@example.test/r' to='${ROOM}' type='groupchat' id='the message id number ${i}'>` +
        `<body>what the message number ${i} says</body></message>`,
    );
    await onGroupchat(ctx, room, people[0]!, message!);
    ctx.sent.length = 0; // (the test's own record of what was sent)
  };
  await say(-1);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) await say(i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(multicast.book.entries, 201);
  assert.ok(
    grown < 10_000_000,
    `${(grown / 1e6).toFixed(1)} MB kept for ${multicast.book.bytes} bytes counted`,
  );
});
