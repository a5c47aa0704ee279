// `cordon start` as an admin runs it, for the e2e tests of the CLI, the admin API and the console:
// a state directory with the demo policy, a config written by the test, the process spawned with
// the admin token in its environment, its output kept, the admin API asked with the token; and a
// process started from a test's own config until it is online (catalog, component, muc-catalog).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@cordon/harness";
import { repoRoot, demoPolicyFile } from "./demo.js";

export const cli = join(repoRoot, "packages/cli/dist/src/main.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `cordon admin hash-password` as an admin runs it (the password on stdin): the console user's
 * passwordHash. Asynchronous, so a test may hash while its servers start.
 */
export async function hashPassword(password: string): Promise<string> {
  const child = spawn(process.execPath, [cli, "admin", "hash-password"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdin.end(`${password}\n`);
  const [code] = (await once(child, "close")) as [number | null];
  assert.equal(code, 0, err);
  return out.trim();
}

/** An admin API answer: `json` when the answer is JSON. */
export interface ApiAnswer {
  status: number;
  text: string;
  headers: Headers;
  json: Record<string, unknown> | undefined;
}

export interface CordonRun {
  /** The state directory (policy.xml, cordon.yaml, audit.jsonl). */
  readonly dir: string;
  /** The admin API's base URL. */
  readonly admin: string;
  readonly adminPort: number;
  /** The running process, once started. */
  readonly child: ChildProcess | undefined;
  /** All the process wrote (stdout and stderr). */
  log: () => string;
  /** Asks the admin API with the token; a state-changing request is sent as JSON (admin/guard.ts). */
  api: (path: string, init?: RequestInit) => Promise<ApiAnswer>;
  /** Polls `check` until true; fails with the end of the log after `timeoutMs`. */
  until: (what: string, check: () => Promise<boolean> | boolean, timeoutMs?: number) => Promise<void>;
  /** The audit log's records (`audit: { file: audit.jsonl }`). */
  audit: () => Record<string, unknown>[];
  /** Writes `config` as cordon.yaml, starts `cordon start` and waits for the admin API's /ready. */
  start: (config: string, env?: Record<string, string>) => Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop: () => Promise<void>;
  /** Stops the process and removes the state directory. */
  remove: () => Promise<void>;
}

/** A state directory named after `prefix` with the demo policy as policy.xml, and a free admin port. */
export async function prepareCordon(prefix: string, token: string): Promise<CordonRun> {
  const dir = mkdtempSync(join(tmpdir(), `cordon-${prefix}-`));
  copyFileSync(demoPolicyFile, join(dir, "policy.xml"));
  const adminPort = await freePort();
  const admin = `http://127.0.0.1:${adminPort}`;
  let child: ChildProcess | undefined;
  let log = "";

  const api = async (path: string, init: RequestInit = {}): Promise<ApiAnswer> => {
    const res = await fetch(`${admin}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.method && init.method !== "GET" ? { "content-type": "application/json" } : {}),
      },
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      headers: res.headers,
      json: res.headers.get("content-type")?.startsWith("application/json")
        ? (JSON.parse(text) as Record<string, unknown>)
        : undefined,
    };
  };
  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (
        await Promise.resolve()
          .then(check)
          .catch(() => false)
      )
        return;
      await sleep(100);
    }
    assert.fail(`timed out waiting for ${what}\n${log.slice(-3000)}`);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };

  return {
    dir,
    admin,
    adminPort,
    get child() {
      return child;
    },
    log: () => log,
    api,
    until,
    audit: () =>
      existsSync(join(dir, "audit.jsonl"))
        ? readFileSync(join(dir, "audit.jsonl"), "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [],
    start: async (config, env = {}) => {
      writeFileSync(join(dir, "cordon.yaml"), config);
      child = spawn(process.execPath, [cli, "start", "--config", join(dir, "cordon.yaml")], {
        env: { ...process.env, CORDON_ADMIN_TOKEN: token, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
      await until("the admin API to report ready", async () => (await api("/ready")).status === 200);
    },
    stop,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One `cordon start` process on a config of its own and what it logged (the cluster tests run several). */
export interface SpawnedCordon {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

/** `cordon start` spawned by a test, its stderr (where it logs) kept. */
export interface CliRun {
  child: ChildProcess;
  stderr: () => string;
}

/** Spawns `cordon start --config <config> ...args` with `env` added to the environment; does not wait. */
export function startCli(config: string, env: Record<string, string>, args: readonly string[] = []): CliRun {
  let stderr = "";
  const child = spawn(process.execPath, [cli, "start", "--config", config, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return { child, stderr: () => stderr };
}

/** Waits up to 15 s until `run` logged "online" (or exited); fails with its log when it did not. */
export async function untilOnline(run: CliRun): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!/"msg":"online"/.test(run.stderr()) && Date.now() < deadline && run.child.exitCode === null)
    await sleep(50);
  assert.match(run.stderr(), /"msg":"online"/, run.stderr());
}

/** Starts `cordon start --config <config>` with info logs; does not wait for it. */
export function spawnCordon(config: string): SpawnedCordon {
  let log = "";
  const child = spawn(process.execPath, [cli, "start", "--config", config], {
    env: { ...process.env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, log: () => log, exited };
}

/** Stops it (resumed first if it was paused): SIGTERM, SIGKILL after 5 s. */
export async function stopSpawned(c: SpawnedCordon | undefined): Promise<void> {
  if (!c || c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill("SIGCONT");
  c.child.kill("SIGTERM");
  await Promise.race([c.exited, sleep(5000)]);
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
}

/**
 * The `components:` part of a `cordon start` config the operations and console tests share: a MUC
 * service with a SECRET preset room `vault` (owned by alice@`domain` when `vaultOwner`), and, with
 * `catalog`, a catalog service on `catalog.domain` offering `catalog.items` (YAML flow mappings)
 * for `domain`'s users.
 */
export function mucAndCatalogYaml(o: {
  domain: string;
  mucDomain: string;
  vaultOwner?: boolean;
  localDomains?: boolean;
  catalog?: { domain: string; name: string; items: string[] };
}): string {
  const owners = o.vaultOwner === false ? "" : `, owners: ["alice@${o.domain}"]`;
  const lines = [
    "components:",
    "  muc:",
    `    domain: ${o.mucDomain}`,
    "    secret: muc-secret",
    ...(o.localDomains ? [`    localDomains: ["${o.domain}"]`] : []),
    "    labels:",
    "      UNCLASSIFIED: { classification: UNCLASSIFIED }",
    "      SECRET: { classification: SECRET }",
    "    roomLabel: UNCLASSIFIED",
    "    defaultLabel: UNCLASSIFIED",
    "    presetRooms:",
    `      vault: { name: Vault, label: SECRET, clearance: [UNCLASSIFIED, SECRET], defaultLabel: SECRET${owners} }`,
  ];
  if (o.catalog)
    lines.push(
      "  catalog:",
      `    domain: ${o.catalog.domain}`,
      "    secret: catalog-secret",
      `    served: [${o.domain}]`,
      `    muc: [${o.mucDomain}]`,
      "    catalogs:",
      `      ${o.domain}:`,
      `        name: ${o.catalog.name}`,
      "        items:",
      ...o.catalog.items.map((item) => `          - ${item}`),
    );
  return `${lines.join("\n")}\n`;
}

/** Catalog items (YAML flow mappings): UNCLASSIFIED, the default, and SECRET. */
export const UNCLASSIFIED_ITEM =
  "{ selector: UNCLASSIFIED, default: true, label: { classification: UNCLASSIFIED } }";
export const SECRET_ITEM = "{ selector: SECRET, label: { classification: SECRET } }";
