// The committed launcher bin/cordon.js: `npx cordon` works at the repository root after the
// README's set-up (npm install links it, the build provides dist/), and says what to do before a build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const root = resolve(packageDir, "../..");

function npxCordon(args: string[]) {
  // --no-install: only the workspace's own bin, never a package of that name from the registry.
  return spawnSync("npx", ["--no-install", "cordon", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_UPDATE_NOTIFIER: "1" },
  });
}

test("npx cordon --help at the repository root exits 0 and prints the usage", () => {
  const result = npxCordon(["--help"]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^usage: cordon <command> \[options\]\n/);
  for (const command of [
    "start",
    "check-config",
    "admin",
    "clearance",
    "label",
    "acdf",
    "conformance",
    "audit",
  ])
    assert.match(result.stdout, new RegExp(`^  ${command} `, "m"));
});

test("the launcher passes the arguments and the exit status through", () => {
  const result = npxCordon(["no-such-command"]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /cordon: unknown command "no-such-command"/);
});

test("before a build the launcher says to build, and exits 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-launcher-"));
  try {
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    copyFileSync(join(packageDir, "bin", "cordon.js"), join(dir, "bin", "cordon.js"));
    const result = spawnSync(process.execPath, [join(dir, "bin", "cordon.js"), "--help"], {
      encoding: "utf8",
    });
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /^cordon: not built yet .*run `npm run build` at the repository root first\n$/,
    );
    assert.equal(result.stdout, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
