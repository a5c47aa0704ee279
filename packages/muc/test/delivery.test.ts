import { test } from "node:test";
import assert from "node:assert/strict";
import { deliverableLabel } from "../src/service/delivery.js";
import { LabelRendering } from "../src/security/label-rendering.js";
import { NO_CLEARANCE, unknownClearance } from "../src/security/clearance-state.js";
import type { Occupant } from "../src/room/occupant.js";
import { label, clearance, ALL } from "./fixtures.js";

const ctx = { rendering: new LabelRendering() };
const occupant = (state: Occupant["clearance"]): Occupant => ({
  nick: "n", jid: "a@x/r", bare: "a@x", role: "participant", affiliation: "none", occupantId: "o",
  clearance: state, labelAware: true, presenceXml: "", joinedAt: 0,
});
const known = (c: ReturnType<typeof clearance>) => ({ kind: "known" as const, clearance: c, fingerprint: "f" });

test("an occupant receives a label only when its clearance grants it", () => {
  const SA = label("SECRET", "ALPHA");
  assert.equal(deliverableLabel(ctx, occupant(known(clearance(ALL, ["ALPHA"]))), SA), SA);
  assert.equal(deliverableLabel(ctx, occupant(known(clearance(ALL))), SA), undefined, "restrictive ALPHA not held");
  assert.equal(deliverableLabel(ctx, occupant(known(clearance(["UNCLASSIFIED"]))), label("SECRET")), undefined);
});

test("permissive categories need one of the label's releasabilities", () => {
  const rel = label("SECRET", "GBR", "USA");
  assert.ok(deliverableLabel(ctx, occupant(known(clearance(ALL, ["USA"]))), rel));
  assert.equal(deliverableLabel(ctx, occupant(known(clearance(ALL, ["FRA"]))), rel), undefined);
});

test("nil and unknown clearances receive nothing labelled", () => {
  assert.equal(deliverableLabel(ctx, occupant(NO_CLEARANCE), label("UNCLASSIFIED")), undefined);
  assert.equal(deliverableLabel(ctx, occupant(unknownClearance("store down")), label("UNCLASSIFIED")), undefined);
});
