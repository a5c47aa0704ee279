// Review keep15 (a guard for issue 19's copies, room/own-string.ts): what a room keeps of its
// occupants (real JID, nick, bare JID, presence payload) and of its history (id, body, payload)
// is read off stanzas — attribute values and texts, V8 views of the text the parser read (a
// substring of 13 characters or more keeps its parent). Each kept as it came would keep its
// stanza's whole socket read alive behind the few bytes the budgets count. Real handlers, stanzas
// parsed by the component's parser, each in a read with 200 KB of another stanza.
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, parseJid, type Element } from "@cordon/component";
import { encodeBerClearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { onRoomPresence } from "../src/service/presence.js";
import { onGroupchat } from "../src/service/groupchat.js";
import type { LabelAwareness } from "../src/service/label-awareness.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");

/** The stanza a socket read of `text` gives, after 200 KB of another stanza in the same read. */
function read(text: string): Element {
  const parser = createParser();
  let found: Element | undefined;
  parser.on("start", () => undefined);
  parser.on("element", (el) => {
    found = el;
  });
  parser.write(`<stream><message><body>${"x".repeat(200_000)}</body></message>${text}`);
  return found!;
}

test("occupants and history do not keep their stanzas' text alive", async () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const ctx = capturingContext(registry, policy, {
    domain: "rooms.example.test",
    defaultRoomLabel: U,
    defaultMessageLabel: U,
    serviceClearance: clearance(ALL),
  });
  const room = new Room(
    ROOM,
    { ...DEFAULT_ROOM_CONFIG, historyLength: 1000 },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
    ctx.budgets,
  );
  ctx.rooms.set(ROOM, room);
  // Clients that show labels (the test's component is never connected: a disco#info request would
  // wait in its outgoing queue, with the presence it is about, until the queue's offline timeout).
  const awareness: Pick<LabelAwareness, "discover"> = { discover: () => Promise.resolve(true) };
  Object.assign(ctx, { awareness });
  const data = Buffer.from(encodeBerClearance(clearance(ALL))).toString("base64");
  const enter = async (i: number): Promise<void> => {
    const user = `the user number ${i}@example.test`.replaceAll(" ", "-");
    await ctx.store.setUserClearance(user, { encoding: "ber", data });
    const presence = read(
      `<presence from='${user}/the resource number ${i}' to='${ROOM}/the nick number ${i}'>` +
        `<x xmlns='http://jabber.org/protocol/muc'/><status>the status of user number ${i}</status></presence>`,
    );
    const to = parseJid(presence.attrs.to!)!;
    await onRoomPresence(ctx, presence, ROOM, to.resource);
    const occupant = room.byJid.get(`${user}/the resource number ${i}`);
    assert.ok(occupant, `user ${i} entered`);
    await onGroupchat(
      ctx,
      room,
      occupant,
      read(
        `<message from='${user}/the resource number ${i}' to='${ROOM}' type='groupchat' id='the message id number ${i}'>` +
          `<body>what the message number ${i} says</body><thread>the thread number ${i}</thread></message>`,
      ),
    );
    ctx.sent.length = 0; // (the test's own record of what was sent)
  };
  await enter(-1);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 100; i++) await enter(i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.deepEqual(ctx.refused, []);
  assert.equal(room.size, 101);
  assert.equal(room.history.length, 101);
  assert.ok(
    grown < 10_000_000,
    `${(grown / 1e6).toFixed(1)} MB kept for 100 occupants (${ctx.budgets.occupants.bytes} bytes counted) ` +
      `and 100 history entries (${room.historyBytes} bytes counted)`,
  );
});
