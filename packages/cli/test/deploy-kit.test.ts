// The deploy kit read as text (Docker is not available to build the image here): systemd units
// hardened and wired to the CLI, the compose example's Cordon config valid.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const deploy = join(root, "deploy");

test("one hardened systemd unit per component, running start --only NAME, reloading with SIGHUP", () => {
  for (const name of ["muc", "catalog", "relay"]) {
    const unit = readFileSync(join(deploy, "systemd", `cordon-${name}.service`), "utf8");
    const has = (line: string) =>
      assert.ok(unit.split("\n").includes(line), `cordon-${name}.service: ${line}`);
    has(`ExecStart=/usr/bin/cordon start --config /etc/cordon/cordon.yaml --only ${name}`);
    has(`ExecStartPre=/usr/bin/cordon check-config --config /etc/cordon/cordon.yaml --only ${name}`);
    has("ExecReload=/bin/kill -HUP $MAINPID");
    for (const line of [
      "DynamicUser=yes",
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "PrivateTmp=yes",
      "ProtectHome=yes",
      "CapabilityBoundingSet=",
      "SystemCallFilter=@system-service",
      "Restart=on-failure",
    ])
      has(line);
    assert.match(unit, /^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
  }
});

test("the Dockerfile is multi-stage, installs production dependencies only and runs as non-root", () => {
  const text = readFileSync(join(deploy, "docker", "Dockerfile"), "utf8");
  assert.ok((text.match(/^FROM /gm) ?? []).length >= 2);
  assert.match(text, /npm install --omit=dev/);
  assert.match(text, /^USER node$/m);
  assert.doesNotMatch(text, /^USER root$/m);
});

test("the compose example's Cordon config passes check-config", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-compose-"));
  try {
    mkdirSync(join(dir, "policies"));
    copyFileSync(join(deploy, "docker/compose/cordon.yaml"), join(dir, "cordon.yaml"));
    copyFileSync(join(deploy, "quickstart/demo-policy.xml"), join(dir, "policies/demo-policy.xml"));
    const env = {
      PATH: process.env.PATH ?? "",
      CORDON_MUC_SECRET: "m",
      CORDON_CATALOG_SECRET: "c",
      CORDON_ADMIN_TOKEN: "0123456789abcdef0123",
    };
    const r = spawnSync(
      process.execPath,
      [join(root, "packages/cli/dist/src/main.js"), "check-config", "--config", "cordon.yaml"],
      { cwd: dir, env, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /rooms\.example\.test -> prosody:5347/);
    assert.match(r.stdout, /admin API: http:\/\/0\.0\.0\.0:9090 \(bearer token required\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
