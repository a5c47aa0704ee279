// Review keep15: a room keeps the name, description and password its owner submitted for as long
// as it lives (and persists them) — the form's texts, V8 views of the text the parser read (a
// substring of 13 characters or more keeps its parent). Kept as they came, each room configured
// kept the whole socket read of its form alive (its custom clearance too, kept as written). What
// the room keeps of the form is copies of its own.
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, type Element } from "@cordon/component";
import { encodeBerClearance } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "../src/room/room-config.js";
import { readSubmittedConfig } from "../src/service/room-config-form.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const U = label("UNCLASSIFIED");
const NO_BOUND = { status: "known", clearances: [] } as const;

test("a room's submitted configuration does not keep its form's text alive", () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const ctx = capturingContext(registry, policy, { domain: "rooms.example.test", defaultRoomLabel: U });
  const kept: RoomConfig[] = [];
  const raws: unknown[] = [];
  const custom = Buffer.from(encodeBerClearance(clearance(ALL))).toString("base64");
  const configure = (i: number): void => {
    const room = new Room(
      `room${i}@rooms.example.test`,
      { ...DEFAULT_ROOM_CONFIG },
      { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
    );
    const parser = createParser();
    let iq: Element | undefined;
    parser.on("start", () => undefined);
    parser.on("element", (el) => {
      if (el.name === "iq") iq = el;
    });
    const field = (name: string, value: string) => `<field var='${name}'><value>${value}</value></field>`;
    parser.write(
      `<stream><message><body>${"x".repeat(200_000)}</body></message><iq type='set'><query xmlns='http://jabber.org/protocol/muc#owner'>` +
        `<x xmlns='jabber:x:data' type='submit'>` +
        field("muc#roomconfig_roomname", `The room number ${i}`) +
        field("muc#roomconfig_roomdesc", `What room number ${i} is for`) +
        field("muc#roomconfig_passwordprotectedroom", "1") +
        field("muc#roomconfig_roomsecret", `the secret of room ${i}`) +
        field("sec-label#custom-clearance", custom) +
        `</x></query></iq>`,
    );
    const form = iq!.getChild("query")!.getChild("x", "jabber:x:data")!;
    const submitted = readSubmittedConfig(ctx, room, form, clearance(ALL), NO_BOUND);
    kept.push(submitted.config);
    raws.push(submitted.clearance?.raw);
  };
  configure(-1);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) configure(i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.deepEqual(
    [kept[8]!.name, kept[8]!.description, kept[8]!.password],
    ["The room number 7", "What room number 7 is for", "the secret of room 7"],
  );
  assert.deepEqual(raws[8], { encoding: "ber", data: custom });
  assert.ok(grown < 10_000_000, `${(grown / 1e6).toFixed(1)} MB kept for 200 rooms' configurations`);
});
