import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { runConformance } from "../../src/conformance/runner.js";
import { CORPUS } from "../corpus.js";

test("every case of the corpus tests.xml passes", () => {
  const report = runConformance(resolve(CORPUS, "tests.xml"));
  const failed = report.cases
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: expected ${c.expected}, got ${c.got}`);
  assert.deepEqual(failed, []);
  assert.equal(report.passed, 39);
  assert.equal(report.failed, 0);
});
