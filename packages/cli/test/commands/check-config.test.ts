// `cordon check-config` on the deploy kit's example config (every key) and on broken configs.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mkdtempSync,
  mkdirSync,
  copyFileSync,
  writeFileSync,
  readFileSync,
  rmSync,
  existsSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../..");
const cli = join(root, "packages/cli/dist/src/main.js");
const SECRETS = [
  "CORDON_LDAP_SECRET",
  "CORDON_ADMIN_TOKEN",
  "CORDON_MUC_SECRET",
  "CORDON_CATALOG_SECRET",
  "CORDON_OCCUPANT_ID_SECRET",
  "CORDON_RELAY_LOCAL_SECRET",
  "CORDON_RELAY_REMOTE_SECRET",
];

function kit(): string {
  const dir = mkdtempSync(join(tmpdir(), "cordon-check-"));
  mkdirSync(join(dir, "policies"));
  copyFileSync(join(root, "deploy/cordon.example.yaml"), join(dir, "cordon.yaml"));
  copyFileSync(join(root, "deploy/quickstart/demo-policy.xml"), join(dir, "policies/site-policy.xml"));
  return dir;
}

const run = (
  dir: string,
  env: Record<string, string> = Object.fromEntries(SECRETS.map((s) => [s, "0123456789abcdef-secret"])),
) =>
  spawnSync(process.execPath, [cli, "check-config", "--config", "cordon.yaml"], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...env },
  });

test("deploy/cordon.example.yaml is valid and check-config prints what it would connect to", () => {
  const dir = kit();
  try {
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cordon\.yaml: valid$/m);
    assert.match(r.stdout, /^ {2}rooms\.example\.mil -> 127\.0\.0\.1:5347$/m);
    assert.match(r.stdout, /^ {2}catalog\.example\.mil -> 127\.0\.0\.1:5347$/m);
    assert.match(r.stdout, /^ {2}example\.mil -> 192\.0\.2\.10:5347 \(peering partner, remote server\)$/m);
    assert.match(r.stdout, /^store: redis redis:\/\/127\.0\.0\.1:6379\/0 \(key prefix cordon:\)$/m);
    assert.match(r.stdout, /^directory: LDAP ldap:\/\/127\.0\.0\.1:389/m);
    assert.match(r.stdout, /^admin API: http:\/\/127\.0\.0\.1:9090 \(bearer token required\)$/m);
    assert.equal(existsSync("/var/lib/cordon-relay/audit.jsonl"), false, "the audit file is not created");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("errors name the key and the file line; exit 2", () => {
  const dir = kit();
  try {
    const text = readFileSync(join(dir, "cordon.yaml"), "utf8");
    writeFileSync(join(dir, "cordon.yaml"), text.replace("roomLabel: UNCLASSIFIED", "roomLabel: SECRETT"));
    const r = run(dir);
    assert.equal(r.status, 2);
    const line = text.split("\n").findIndex((l) => l.includes("roomLabel: UNCLASSIFIED")) + 1;
    assert.equal(
      r.stderr.trim().split("\n")[0],
      `cordon.yaml:${line}: components.muc.roomLabel: "SECRETT" is not one of the labels (UNCLASSIFIED, CONFIDENTIAL, SECRET, SECRET ALPHA, TOP SECRET)`,
    );
    const missing = run(dir, {});
    assert.equal(missing.status, 2);
    assert.match(
      missing.stderr,
      /^cordon\.yaml:\d+: directory\.secret: environment variable CORDON_LDAP_SECRET is not set or empty/m,
    );
    writeFileSync(
      join(dir, "cordon.yaml"),
      text
        .replace("listen: 127.0.0.1:9090", "listen: 0.0.0.0:9090")
        .replace("  token: { env: CORDON_ADMIN_TOKEN }", ""),
    );
    const open = run(dir);
    assert.equal(open.status, 2);
    assert.match(open.stderr, /admin\.token: required when the admin API listens on a non-loopback address/);
    writeFileSync(join(dir, "policies/site-policy.xml"), "<notspif/>");
    writeFileSync(join(dir, "cordon.yaml"), text);
    const badPolicy = run(dir);
    assert.equal(badPolicy.status, 2);
    assert.match(
      badPolicy.stderr,
      /^cordon\.yaml:\d+: policies\[0\]: cannot load policies\/site-policy\.xml/m,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the store through Redis Sentinel, as the example's comment shows; both forms at once are refused", () => {
  const dir = kit();
  try {
    const text = readFileSync(join(dir, "cordon.yaml"), "utf8");
    const sentinel = text
      .replace("    url: redis://127.0.0.1:6379/0\n", "")
      .replace(/# (sentinels: .*)\n/u, "$1\n")
      .replace("# sentinelName: cordon", "sentinelName: cordon");
    writeFileSync(join(dir, "cordon.yaml"), sentinel);
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^store: redis sentinel cordon via 10\.0\.0\.1:26379, 10\.0\.0\.2:26379, 10\.0\.0\.3:26379 \(key prefix cordon:\)$/m,
    );
    writeFileSync(
      join(dir, "cordon.yaml"),
      sentinel.replace("sentinelName: cordon", "sentinelName: cordon\n    url: redis://127.0.0.1:6379/0"),
    );
    const both = run(dir);
    assert.equal(both.status, 2);
    assert.match(
      both.stderr,
      /^cordon\.yaml:\d+: store\.redis\.sentinels: give either url \(one Redis\) or sentinels/m,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("components.muc.cluster, as the example's comment shows: described; strict; refused with the in-memory store", () => {
  const dir = kit();
  try {
    const text = readFileSync(join(dir, "cordon.yaml"), "utf8");
    const clustered = text.replace(
      / {4}# cluster:\n( {4}#.*\n)+/u,
      "    cluster:\n      instance: node1\n      slots: 2\n      leaseSeconds: 3\n",
    );
    assert.notEqual(clustered, text);
    writeFileSync(join(dir, "cordon.yaml"), clustered);
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ {2}cluster: instance node1 of rooms\.example\.mil, 2 slots \(ejabberd domain_balancing component_number: 2\), leases of 3 s in redis redis:\/\/127\.0\.0\.1:6379\/0$/m,
    );
    const broken = (from: string, to: string, key: string, message: RegExp, source = clustered) => {
      writeFileSync(join(dir, "cordon.yaml"), source.replace(from, to));
      const b = run(dir);
      assert.equal(b.status, 2, `${to}: ${b.stdout}`);
      assert.match(
        b.stderr,
        new RegExp(`^cordon\\.yaml:\\d+: ${key.replaceAll(".", "\\.")}: ${message.source}`, "m"),
      );
    };
    broken(
      "      slots: 2\n",
      "      slots: 2\n      leaseSecond: 3\n",
      "components.muc.cluster.leaseSecond",
      /unknown setting/,
    );
    broken("      slots: 2\n", "", "components.muc.cluster.slots", /required/);
    broken("slots: 2", "slots: 0", "components.muc.cluster.slots", /expected at least 1/);
    broken("instance: node1", "instance: node 1", "components.muc.cluster.instance", /expected 1 to 64/);
    broken(
      "leaseSeconds: 3",
      "leaseSeconds: 1",
      "components.muc.cluster.leaseSeconds",
      /expected at least 2/,
    );
    // The in-memory store: the instances could share nothing.
    const memory = clustered.replace(/^store:\n {2}redis:\n( {4}.*\n)+/mu, "");
    assert.notEqual(memory, clustered);
    broken("", "", "components.muc.cluster", /needs the Redis store \(store\.redis\)/, memory);
    // Active/standby (one slot) reads too.
    writeFileSync(join(dir, "cordon.yaml"), clustered.replace("slots: 2", "slots: 1"));
    const standby = run(dir);
    assert.equal(standby.status, 0, standby.stderr);
    assert.match(
      standby.stdout,
      /cluster: instance node1 of rooms\.example\.mil, 1 slot \(active\/standby\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the MUC's XEP-0033 multicast, as the example's comment shows; a chunk over 100 names the key", () => {
  const dir = kit();
  try {
    const text = readFileSync(join(dir, "cordon.yaml"), "utf8");
    const on = text.replace("# multicast: { service", "multicast: { service");
    assert.notEqual(on, text, "the example shows the option");
    writeFileSync(join(dir, "cordon.yaml"), on);
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(join(dir, "cordon.yaml"), on.replace("chunk: 20 }", "chunk: 500 }"));
    const bad = run(dir);
    assert.equal(bad.status, 2);
    const line = on.split("\n").findIndex((l) => l.includes("multicast: { service")) + 1;
    assert.match(
      bad.stderr,
      new RegExp(`^cordon\\.yaml:${line}: components\\.muc\\.multicast\\.chunk: `, "m"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
