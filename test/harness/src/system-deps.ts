// Finds the server binaries of the Debian packages, installing them (as root on Debian) if absent.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MissingDependencyError } from "./errors.js";
import type { ServerKind } from "./types.js";

const PATH_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Absolute path of an executable on PATH (plus the sbin dirs), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env["PATH"] ?? "").split(":").filter(Boolean), ...PATH_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

export interface ProsodyInstall {
  prosody: string;
  prosodyctl: string;
  /** Directory holding mod_delegation/ (community modules), for plugin_paths. */
  communityModules: string | undefined;
}

export interface EjabberdInstall {
  erl: string;
  /** ERL_LIBS of the packaged ejabberd (the directory holding ejabberd-<version>/). */
  erlLibs: string;
}

const MODULE_DIRS = [
  "/usr/lib/prosody/modules",
  "/usr/share/prosody-modules",
  "/usr/local/lib/prosody/modules",
  "/usr/lib64/prosody/modules",
];

function findProsody(): ProsodyInstall | undefined {
  const prosody = which("prosody");
  const prosodyctl = which("prosodyctl");
  if (!prosody || !prosodyctl) return undefined;
  const communityModules = MODULE_DIRS.find(
    (d) =>
      existsSync(join(d, "mod_delegation", "mod_delegation.lua")) ||
      existsSync(join(d, "mod_delegation.lua")),
  );
  return { prosody, prosodyctl, communityModules };
}

function hasEjabberdApp(dir: string): boolean {
  try {
    return readdirSync(dir).some(
      (name) => name.startsWith("ejabberd-") && existsSync(join(dir, name, "ebin", "ejabberd.app")),
    );
  } catch {
    return false;
  }
}

function findEjabberd(): EjabberdInstall | undefined {
  const erl = which("erl");
  if (!erl) return undefined;
  const candidates: string[] = [];
  const ctl = which("ejabberdctl");
  if (ctl) {
    // The Debian ejabberdctl script hard-codes where the package put its Erlang applications.
    const match = /^ERL_LIBS=['"]?([^'"\n]+)['"]?/m.exec(readFileSync(ctl, "utf8"));
    if (match?.[1]) candidates.push(match[1]);
  }
  candidates.push(
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib/ejabberd",
    "/usr/lib/erlang/lib",
  );
  const erlLibs = candidates.find(hasEjabberdApp);
  return erlLibs ? { erl, erlLibs } : undefined;
}

/** test/harness/install-system-deps.sh, found upwards from this module (src/ or dist/src/). */
function installScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, "install-system-deps.sh");
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, "..");
  }
  return undefined;
}

function tryInstall(): string {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) return "not root, so not installing them";
  if (!existsSync("/etc/debian_version")) return "not Debian, so not installing them";
  const script = installScript();
  if (!script) return "cannot find install-system-deps.sh";
  const result = spawnSync("bash", [script], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 600_000,
  });
  return result.status === 0
    ? "installed"
    : `install-system-deps.sh failed: ${(result.stderr || result.stdout || "").trim().slice(-500)}`;
}

let prosodyCache: ProsodyInstall | undefined;
let ejabberdCache: EjabberdInstall | undefined;

export function requireProsody(): ProsodyInstall {
  prosodyCache ??= findProsody();
  if (!prosodyCache) {
    const detail = tryInstall();
    prosodyCache = findProsody();
    if (!prosodyCache)
      throw new MissingDependencyError(
        ["prosody", "prosody-modules"],
        `prosody/prosodyctl not found; ${detail}`,
      );
  }
  return prosodyCache;
}

export function requireEjabberd(): EjabberdInstall {
  ejabberdCache ??= findEjabberd();
  if (!ejabberdCache) {
    const detail = tryInstall();
    ejabberdCache = findEjabberd();
    if (!ejabberdCache)
      throw new MissingDependencyError(
        ["ejabberd"],
        `erl or the packaged ejabberd application not found; ${detail}`,
      );
  }
  return ejabberdCache;
}

export function requireServer(kind: ServerKind): void {
  if (kind === "prosody") requireProsody();
  else requireEjabberd();
}
