import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import { buildSecurityLabelXml, type Clearance, type Label } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { checkMessage } from "../src/service/message-gate.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, ALL } from "./fixtures.js";

const U = label("UNCLASSIFIED");
const TS = label("TOP SECRET");

function gate(labelXml: string, defaults: { label: Label | undefined } = { label: U }) {
  const defaultLabel = defaults.label;
  const ctx = capturingContext(registry, policy, { defaultRoomLabel: U, defaultMessageLabel: defaultLabel });
  const room = new Room("ops@rooms.example.test", DEFAULT_ROOM_CONFIG, {
    label: U,
    clearance: clearance(ALL),
    defaultLabel,
    raw: {},
  });
  const c: Clearance = clearance(ALL);
  const sender: Occupant = {
    nick: "s",
    jid: "s@example.test/r",
    bare: "s@example.test",
    role: "participant",
    affiliation: "none",
    occupantId: "o",
    clearance: { status: "known", clearance: c, fingerprint: "s" },
    labelAware: true,
    presenceXml: "",
    joinedAt: 0,
  };
  const stanza = parseElement(
    `<message to='ops@rooms.example.test' type='groupchat'><body>x</body>${labelXml}</message>`,
  );
  return checkMessage(ctx, room, sender, stanza, { status: "known", clearances: [] });
}

const refusal = (outcome: ReturnType<typeof gate>) =>
  outcome.ok ? "granted" : `${outcome.reason} ${outcome.error.condition}/${outcome.error.type}`;

test("a label whose forms agree passes; the room default applies to an unlabelled message", () => {
  assert.equal(refusal(gate(buildSecurityLabelXml(TS, { equivalents: [TS] }))), "granted");
  const unlabelled = gate("");
  assert.ok(unlabelled.ok && unlabelled.label === U);
});

// Fixed (never-leak property, seed 1745325766): a room default its policy excludes (ALPHA and
// BRAVO exclude UNCLASSIFIED) was applied to unlabelled messages live; history replay refused it.
test("a default label not valid under its policy refuses unlabelled messages (default-label-invalid)", () => {
  const excluded = label("UNCLASSIFIED", "BRAVO");
  assert.equal(refusal(gate("", { label: excluded })), "default-label-invalid forbidden/cancel");
  // A labelled message is judged on its own label.
  assert.equal(refusal(gate(buildSecurityLabelXml(TS), { label: excluded })), "granted");
});

// Fixed: the MUC compared only forms under other policies; UNCLASSIFIED with a TOP SECRET
// equivalent in the same policy was accepted as UNCLASSIFIED.
test("forms in the same policy that disagree are refused with bad-request (label-inconsistent)", () => {
  assert.equal(
    refusal(gate(buildSecurityLabelXml(U, { equivalents: [TS] }))),
    "label-inconsistent bad-request/modify",
  );
});

// Fixed: an empty <label/> meant the room's default whatever its <equivalentlabel>s said.
test("an empty <label/> beside an <equivalentlabel> is refused, not taken as the default", () => {
  const ts = buildSecurityLabelXml(TS);
  const payload = ts.slice(ts.indexOf("<label>") + 7, ts.indexOf("</label>"));
  const xml = `<securitylabel xmlns='urn:xmpp:sec-label:0'><label/><equivalentlabel>${payload}</equivalentlabel></securitylabel>`;
  assert.equal(refusal(gate(xml)), "label-malformed bad-request/modify");
});

test("the shared reason codes and their stanza errors", () => {
  assert.equal(refusal(gate("", { label: undefined })), "unlabelled forbidden/cancel");
  assert.equal(
    refusal(gate(buildSecurityLabelXml(U) + buildSecurityLabelXml(U))),
    "label-several bad-request/modify",
  );
  assert.equal(
    refusal(gate(`<x xmlns='urn:example'>${buildSecurityLabelXml(U)}</x>`)),
    "nested-label bad-request/modify",
  );
  // ALPHA excludes UNCLASSIFIED in the demo policy: a valid encoding of an invalid label.
  assert.equal(
    refusal(gate(buildSecurityLabelXml(label("UNCLASSIFIED", "ALPHA")))),
    "label-invalid forbidden/cancel",
  );
});
