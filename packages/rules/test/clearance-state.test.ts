import { test } from "node:test";
import assert from "node:assert/strict";
import { makeClearance, PolicyRegistry } from "@cordon/policy";
import {
  grantingClearance,
  NO_CLEARANCE,
  sameClearanceState,
  unknownClearance,
} from "../src/clearance-state.js";
import { demoPolicyFile } from "./demo.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(demoPolicyFile);
const clearance = makeClearance(policy, [policy.classifications[0]!], []);

test("known / none / unknown: only a known state grants", () => {
  const known = { status: "known", clearance, fingerprint: "ber:AA==" } as const;
  assert.equal(grantingClearance(known), clearance);
  assert.equal(grantingClearance(NO_CLEARANCE), undefined);
  assert.equal(grantingClearance(unknownClearance("store down")), undefined);
});

test("a change is a different status or a different value", () => {
  const a = { status: "known", clearance, fingerprint: "ber:AA==" } as const;
  assert.ok(sameClearanceState(a, { ...a }));
  assert.ok(!sameClearanceState(a, { ...a, fingerprint: "ber:AB==" }));
  assert.ok(!sameClearanceState(a, NO_CLEARANCE));
  assert.ok(sameClearanceState(unknownClearance("x"), unknownClearance("y")));
  assert.ok(!sameClearanceState(unknownClearance("x"), NO_CLEARANCE));
});
