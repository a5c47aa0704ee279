// Issue 14: what an owner writes into the room configuration is copied into every disco#info of the
// room and the service's room list: the name, description and password are bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StanzaErrorException, xml } from "@cordon/component";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import { readSubmittedConfig } from "../src/service/room-config-form.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const U = label("UNCLASSIFIED");
const NO_BOUND = { status: "known", clearances: [] } as const;

const form = (fields: Record<string, string>) =>
  xml(
    "x",
    { xmlns: "jabber:x:data", type: "submit" },
    ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))),
  );

test("a room name, description or password over its bound is refused with policy-violation", () => {
  const ctx = capturingContext(registry, policy, { domain: "rooms.example.test", defaultRoomLabel: U });
  const room = new Room(
    "ops@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  const ok = readSubmittedConfig(
    ctx,
    room,
    form({ "muc#roomconfig_roomname": "Operations", "muc#roomconfig_roomdesc": "d".repeat(10_000) }),
    clearance(ALL),
    NO_BOUND,
  );
  assert.equal(ok.config.name, "Operations");
  for (const [field, value] of [
    ["muc#roomconfig_roomname", ">".repeat(1100)],
    ["muc#roomconfig_roomdesc", "d".repeat(17_000)],
    ["muc#roomconfig_roomsecret", "p".repeat(5000)],
  ] as const) {
    assert.throws(
      () =>
        readSubmittedConfig(
          ctx,
          room,
          form({ [field]: value, "muc#roomconfig_passwordprotectedroom": "1" }),
          clearance(ALL),
          NO_BOUND,
        ),
      (e: unknown) => e instanceof StanzaErrorException && e.spec.condition === "policy-violation",
      field,
    );
  }
});

// Issue 15 item 8: an error about a submitted value names the field, never the value (no echo).
test("config-form errors never quote what was submitted", () => {
  const ctx = capturingContext(registry, policy, { domain: "rooms.example.test", defaultRoomLabel: U });
  const room = new Room(
    "ops@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG },
    { label: U, clearance: clearance(ALL), defaultLabel: U, raw: {} },
  );
  const echo = "ECHO<b>&quot;";
  for (const field of [
    "muc#roomconfig_persistentroom",
    "muc#roomconfig_publicroom",
    "muc#roomconfig_membersonly",
    "muc#roomconfig_moderatedroom",
    "muc#roomconfig_passwordprotectedroom",
    "muc#roomconfig_changesubject",
    "muc#roomconfig_allowinvites",
    "sec-label#flot",
    "muc#roomconfig_maxusers",
    "muc#maxhistoryfetch",
    "muc#roomconfig_whois",
    "muc#roomconfig_allowpm",
    "sec-label#label",
    "sec-label#custom-label",
    "sec-label#clearance",
    "sec-label#custom-clearance",
    "sec-label#default-label",
  ]) {
    assert.throws(
      () => readSubmittedConfig(ctx, room, form({ [field]: echo }), clearance(ALL), NO_BOUND),
      (e: unknown) =>
        e instanceof StanzaErrorException &&
        !(e.spec.text ?? "").includes("ECHO") &&
        e.spec.text !== undefined,
      field,
    );
  }
});

// Fixed (never-leak property, seed 1745325766): an owner could choose a default label its policy
// excludes (ALPHA and BRAVO exclude UNCLASSIFIED); the room label was checked, the default was not.
test("a default label not valid under its policy is refused, as the room label is", () => {
  const ctx = capturingContext(registry, policy, {
    domain: "rooms.example.test",
    defaultRoomLabel: U,
    namedLabels: [
      { name: "UNCLASSIFIED", label: U },
      { name: "UNCLASSIFIED BRAVO", label: label("UNCLASSIFIED", "BRAVO") },
    ],
  });
  const room = new Room(
    "ops@rooms.example.test",
    { ...DEFAULT_ROOM_CONFIG },
    { label: U, clearance: clearance(ALL, ["BRAVO"]), defaultLabel: U, raw: {} },
  );
  const submit = (name: string) =>
    readSubmittedConfig(ctx, room, form({ "sec-label#default-label": name }), clearance(ALL), NO_BOUND);
  assert.throws(
    () => submit("UNCLASSIFIED BRAVO"),
    (e: unknown) =>
      e instanceof StanzaErrorException && e.spec.text === "the default label is not valid under its policy",
  );
  assert.doesNotThrow(() => submit("UNCLASSIFIED"));
});
