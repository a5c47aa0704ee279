// Spawns the built cordon binary on the project's conformance corpus (test/conformance), and on
// Spiffing's corpus as an extra when one is present beside the repository (CORDON_SHARED_DIR).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const main = resolve(here, "../src/main.js");
const repoRoot = resolve(here, "../../../..");
const corpus = resolve(repoRoot, "test/conformance");
const extra = resolve(
  process.env["CORDON_SHARED_DIR"] ?? resolve(repoRoot, "../shared"),
  "conformance/spiffing/tests.xml",
);
const f = (n: string) => resolve(corpus, n);
const cordon = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });
const TLP = "1.3.6.1.4.1.99999.2.3";

test("conformance passes every case of the project's corpus", () => {
  const r = cordon("conformance", f("tests.xml"));
  assert.equal(r.status, 0, r.stdout);
  assert.equal(r.stdout.trim().split("\n").at(-1), "66 passed, 0 failed");
});

test(
  "conformance passes every case of Spiffing's corpus (an extra, when present)",
  { skip: !existsSync(extra) },
  () => {
    const r = cordon("conformance", extra);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(r.stdout.trim().split("\n").at(-1), "39 passed, 0 failed");
  },
);

test("label marking, decode and translate", () => {
  const m = cordon(
    "label",
    "marking",
    "--policy",
    f("harbour-policy.xml"),
    f("harbour-label-crew-cargo.ber"),
  );
  assert.equal(m.stdout, "| Harbour CREW ONLY HAZ:TOXIC+FLAMMABLE BERTH SOUTH (FRAGILE keep cold) |\n");
  const d = JSON.parse(
    cordon("label", "decode", "--policy", f("harbour-policy.xml"), f("harbour-label-4774.xml")).stdout,
  ) as { policy: { name: string }; marking: string };
  assert.equal(d.policy.name, "Harbour");
  assert.equal(d.marking, "| Harbour OFFICERS HAZ:TOXIC SEALED BERTH NORTH DRY CUSTOMS (FRAGILE) |");
  const t = JSON.parse(
    cordon(
      "label",
      "translate",
      "--policy",
      f("tlp-extended-policy.xml"),
      "--policy",
      f("tlp-policy.xml"),
      "--to",
      TLP,
      f("tlpx-label-amber-vendors-hold.xml"),
    ).stdout,
  ) as { marking: string };
  assert.equal(t.marking, "TLP:AMBER [TO:PARTNERS,CSIRTS] (handle with care) (relayed)");
});

test("acdf prints grant or deny with the reason", () => {
  const g = cordon(
    "acdf",
    "--policy",
    f("harbour-policy.xml"),
    "--label",
    f("harbour-label-crew-cargo.xml"),
    "--clearance",
    f("harbour-clearance-officer.ber"),
  );
  assert.equal(g.status, 0);
  assert.match(g.stdout, /^grant/);
  const d = cordon(
    "acdf",
    "--policy",
    f("harbour-policy.xml"),
    "--label",
    f("harbour-label-crew-cargo.xml"),
    "--clearance",
    f("harbour-clearance-deckhand.xml"),
  );
  assert.equal(d.status, 1);
  assert.match(d.stdout, /^deny \(CORDON_ACDF_RESTRICTIVE_CATEGORY\)/);
});

test("bad input: exit 2, one line, no stack trace", () => {
  for (const args of [
    ["label", "decode", "--policy", f("harbour-policy.xml"), f("no-policy-label.ber")],
    ["label", "decode", "--policy", f("harbour-policy.xml"), f("this-file-does-not-exist.ber")],
    [
      "acdf",
      "--policy",
      f("bad-duplicate-excluded-class.xml"),
      "--label",
      f("harbour-label-customs.xml"),
      "--clearance",
      f("harbour-clearance-officer.xml"),
    ],
    ["conformance"],
  ]) {
    const r = cordon(...args);
    assert.equal(r.status, 2, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
