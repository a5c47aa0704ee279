import { test } from "node:test";
import assert from "node:assert/strict";
import { REFUSAL_REASONS, isRefusalReason, refusalError } from "../src/refusal-reasons.js";

test("every code feeds the metric of its own name and maps to bad-request/modify or forbidden/cancel", () => {
  for (const [code, spec] of Object.entries(REFUSAL_REASONS)) {
    assert.equal(spec.metric, code);
    assert.ok(
      (spec.condition === "bad-request" && spec.type === "modify") ||
        (spec.condition === "forbidden" && spec.type === "cancel"),
      code,
    );
  }
});

test("hidden content and unreadable or disagreeing labels are bad-request; the rest forbidden", () => {
  for (const code of ["nested-label", "nested-stanza", "prefixed-name", "too-deep"] as const)
    assert.equal(refusalError(code).condition, "bad-request");
  for (const code of ["label-malformed", "label-several", "label-inconsistent"] as const)
    assert.equal(refusalError(code).condition, "bad-request");
  for (const code of [
    "unlabelled",
    "default-label-invalid",
    "label-unknown-policy",
    "label-wrong-policy",
    "label-invalid",
    "payload-labelled",
  ] as const)
    assert.equal(refusalError(code).condition, "forbidden");
});

test("the relay's form carries no text; codes are looked up as own properties only", () => {
  assert.deepEqual(refusalError("label-inconsistent", false), { condition: "bad-request", type: "modify" });
  assert.equal(isRefusalReason("label-malformed"), true);
  assert.equal(isRefusalReason("toString"), false);
  assert.equal(isRefusalReason("peer-denied"), false);
});
