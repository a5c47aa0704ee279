import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { runConformance } from "../../src/conformance/runner.js";
import { CORPUS, EXTRA_CORPUS } from "../corpus.js";

function failures(path: string): { failed: string[]; passed: number } {
  const report = runConformance(path);
  return {
    failed: report.cases
      .filter((c) => !c.passed)
      .map((c) => `${c.name}: expected ${c.expected}, got ${c.got}`),
    passed: report.passed,
  };
}

test("every case of the project's corpus (test/conformance/tests.xml) passes", () => {
  const r = failures(resolve(CORPUS, "tests.xml"));
  assert.deepEqual(r.failed, []);
  assert.equal(r.passed, 66);
});

test(
  "every case of Spiffing's corpus passes (an extra, run when it is present)",
  { skip: !EXTRA_CORPUS },
  () => {
    const r = failures(resolve(EXTRA_CORPUS!, "tests.xml"));
    assert.deepEqual(r.failed, []);
    assert.equal(r.passed, 39);
  },
);
