import { test } from "node:test";
import assert from "node:assert/strict";
import { mucObserver } from "../../src/runners/ops.js";
import { LinkBook } from "../../src/metrics/link-book.js";
import { createMetrics } from "../../src/metrics/registry.js";

// Issue 14: stored data of persistent rooms skipped at load (over the size bounds) is counted.
test("the MUC observer counts history entries and subjects skipped at load", async () => {
  const metrics = createMetrics({ processMetrics: false });
  const observer = mucObserver({ metrics, links: new LinkBook(metrics) });
  observer?.skipped?.("history", 2);
  observer?.skipped?.("subject", 1);
  const body = (await metrics.text()).body;
  assert.match(
    body,
    /^cordon_stanzas_oversize_total\{component="muc",direction="stored",part="history"\} 2$/m,
  );
  assert.match(
    body,
    /^cordon_stanzas_oversize_total\{component="muc",direction="stored",part="subject"\} 1$/m,
  );
});
