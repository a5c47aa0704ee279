#!/usr/bin/env node
// Runs compiled test files with node's test runner in one invocation, so the run ends
// with one summary. Unit tests: packages/*/dist/test/**/*.test.js. Harness and E2E: test/{harness,e2e}/dist/test/**/*.test.js.
//   node test/run-tests.mjs            every test
//   node test/run-tests.mjs --unit     unit tests only
//   node test/run-tests.mjs --e2e      e2e tests only
//   node test/run-tests.mjs --unit packages/policy   one package's unit tests
import { run } from "node:test";
import { spec, tap } from "node:test/reporters";
import { finished } from "node:stream/promises";
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const e2eOnly = args.includes("--e2e");
const only = args.filter((a) => !a.startsWith("--"));

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const files = [];
if (!e2eOnly) {
  const pkgs = only.length
    ? only.map((p) => resolve(root, p))
    : readdirSync(join(root, "packages")).map((p) => join(root, "packages", p));
  for (const pkg of pkgs) collect(join(pkg, "dist", "test"), files);
}
if (!unitOnly) {
  collect(join(root, "test", "harness", "dist", "test"), files);
  collect(join(root, "test", "e2e", "dist", "test"), files);
}
if (files.length === 0) {
  console.error("run-tests: no compiled test files found (did the build run?)");
  process.exit(1);
}
files.sort();
// Longest files first (two at a time, in this order: `node --test` would sort them by name, so the
// files go to node:test's run(), which keeps it): a long file started last would run alone at the
// end. test/durations.json holds seconds per file from a CI run (repo-relative compiled paths; only
// the order depends on it; a file not listed runs after the listed ones, by name). Refresh it when
// a file's time changes a lot.
const durations = JSON.parse(readFileSync(join(root, "test", "durations.json"), "utf8"));
const seconds = (file) => durations[relative(root, file)] ?? 0;
files.sort((a, b) => seconds(b) - seconds(a));
// A TAP copy of the results lets us count e2e tests per server: their names carry [prosody] or [ejabberd].
const tapFile = join(mkdtempSync(join(tmpdir(), "cordon-tests-")), "results.tap");
process.chdir(root);
// As `node --test --test-concurrency=2 --test-timeout=180000` with a spec and a TAP reporter.
const stream = run({ files, concurrency: 2, timeout: 180_000 });
const specOut = stream.compose(spec);
specOut.pipe(process.stdout);
const tapOut = stream.compose(tap).pipe(createWriteStream(tapFile));
await Promise.all([finished(specOut), finished(tapOut)]);
let passed = 0;
let failed = 0;
const perServer = new Map();
if (existsSync(tapFile)) {
  for (const line of readFileSync(tapFile, "utf8").split("\n")) {
    const m = /^\s*(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO).*)?$/.exec(line);
    if (!m) continue;
    const server = /\[(prosody|ejabberd)\]/.exec(m[2])?.[1];
    if (!server) continue;
    const counts = perServer.get(server) ?? { passed: 0, failed: 0, todo: 0 };
    // A `todo` test records a known open finding: reported apart, never as passed or failed.
    if (m[3] === "TODO") counts.todo += 1;
    else if (m[1] === "ok") counts.passed += 1;
    else counts.failed += 1;
    perServer.set(server, counts);
  }
  const summary = readFileSync(tapFile, "utf8");
  passed = Number(/^# pass (\d+)/m.exec(summary)?.[1] ?? 0);
  failed =
    Number(/^# fail (\d+)/m.exec(summary)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(summary)?.[1] ?? 0);
}
for (const [server, c] of perServer)
  console.log(
    `e2e on ${server}: ${c.passed} passed, ${c.failed} failed${c.todo ? `, ${c.todo} todo (open findings)` : ""}`,
  );
if (!unitOnly && !e2eOnly)
  for (const server of ["prosody", "ejabberd"])
    if (!perServer.has(server)) console.log(`e2e on ${server}: none ran`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
