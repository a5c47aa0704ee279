// Spawns the built cordon binary on corpus files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const main = resolve(here, "../src/main.js");
const repoRoot = resolve(here, "../../../..");
const corpus = resolve(
  process.env["CORDON_SHARED_DIR"] ?? resolve(repoRoot, "../shared"),
  "conformance/spiffing",
);
const f = (n: string) => resolve(corpus, n);
const cordon = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });

test("conformance passes every corpus case", () => {
  const r = cordon("conformance", f("tests.xml"));
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim().split("\n").at(-1), "39 passed, 0 failed");
});

test("label marking, decode and translate", () => {
  const m = cordon("label", "marking", "--policy", f("food-policy.xml"), f("food-label-milk-chocolate.ber"));
  assert.equal(m.stdout, "[ Food Sweet/Yummy Chocolate Brown Contains Lactose Not Vegan Animal Rights ]\n");
  const d = JSON.parse(
    cordon("label", "decode", "--policy", f("nato-4774-policy.xml"), f("nato-4774-17-1.nato")).stdout,
  ) as { policy: { name: string }; marking: string };
  assert.equal(d.policy.name, "NATO");
  assert.equal(d.marking, "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT");
  const t = JSON.parse(
    cordon(
      "label",
      "translate",
      "--policy",
      f("tlp-plus.xml"),
      "--policy",
      f("tlp.xml"),
      "--to",
      "1.2.826.0.1.6726289.0.2",
      f("tlpx-green-sh-na.xml"),
    ).stdout,
  ) as { marking: string };
  assert.equal(t.marking, "TLP:GREEN [REGION=EU/US] [Imported Data]");
});

test("acdf prints grant or deny with the reason", () => {
  const g = cordon(
    "acdf",
    "--policy",
    f("food-policy.xml"),
    "--label",
    f("food-label-milk-chocolate.xml"),
    "--clearance",
    f("food-clearance-all-okay.ber"),
  );
  assert.equal(g.status, 0);
  assert.match(g.stdout, /^grant/);
  const d = cordon(
    "acdf",
    "--policy",
    f("food-policy.xml"),
    "--label",
    f("food-label-milk-chocolate.xml"),
    "--clearance",
    f("food-clearance-lactose-intolerant.xml"),
  );
  assert.equal(d.status, 1);
  assert.match(d.stdout, /^deny \(CORDON_ACDF_RESTRICTIVE_CATEGORY\)/);
});

test("bad input: exit 2, one line, no stack trace", () => {
  for (const args of [
    ["label", "decode", "--policy", f("food-policy.xml"), f("label-1.ber")],
    ["label", "decode", "--policy", f("food-policy.xml"), f("this-file-does-not-exist.ber")],
    [
      "acdf",
      "--policy",
      f("food-policy-borked.xml"),
      "--label",
      f("food-label-water.xml"),
      "--clearance",
      f("food-clearance-savoury.xml"),
    ],
    ["conformance"],
  ]) {
    const r = cordon(...args);
    assert.equal(r.status, 2, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
