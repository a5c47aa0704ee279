// The verdict cache key's fast path in Prosody's module (mod_cordon_guard.lua same_as_memo: the
// message compared in place with the sending session's last key, issue 17) against the key built
// in full, on Prosody's own util.stanza (test/e2e/lua/cache-key-fuzz.lua): a wrong "same" would
// serve a message the verdict decided for another (a SECRET one the cached UNCLASSIFIED verdict).
// Mutants of the fast path — an attribute's value or a text of the label not compared — are found
// by these runs (checked when written: 4 and 12 mismatches in 30,000).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../lua/cache-key-fuzz.lua", import.meta.url));
const moduleFile = fileURLToPath(
  new URL("../../../../deploy/prosody/modules/mod_cordon_guard.lua", import.meta.url),
);

for (const seed of [1, 2, 3]) {
  test(`the key's fast path gives the key built in full (seed ${seed}, 100,000 messages)`, () => {
    const run = spawnSync("lua5.4", [script, moduleFile, String(seed), "100000"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const m = /runs (\d+) mismatches (\d+) hits (\d+)/.exec(run.stdout);
    assert.ok(m, run.stdout);
    assert.equal(Number(m[2]), 0, run.stdout);
    // (The fast path was taken: the comparison is not vacuous.)
    assert.ok(Number(m[3]) > 1000, run.stdout);
  });
}
