// Child processes of the harness: servers run in their own process group (so signals reach every
// helper they fork, e.g. Erlang's erl_child_setup), log to a file, and die with the test process.
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommandFailedError } from "./errors.js";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** The exit status once exited, else undefined. */
  exitInfo(): ExitInfo | undefined;
  /** SIGTERM to the process group; SIGKILL after graceMs if it is still running. */
  terminate(graceMs: number): Promise<void>;
  /** SIGKILL to the process group. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended to this file. */
  logFile: string;
}

const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let hooksInstalled = false;
let watchdogPid: number | undefined;
const watchFile = join(tmpdir(), `cordon-harness-${process.pid}.watch`);

// If the test process dies without running its exit hook (SIGKILL, OOM), a detached shell notices
// within a second and kills the server process groups and removes the temp dirs listed in
// watchFile. The list is rewritten whenever a server or temp dir comes or goes.
const WATCHDOG = `
parent="$1"; list="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[ -f "$list" ] || exit 0
while read -r kind value; do
  case "$kind" in
    pg) kill -9 "-$value" 2>/dev/null ;;
  esac
done < "$list"
sleep 1
while read -r kind value; do
  case "$kind" in
    dir) [ "$KEEP" = 1 ] || rm -rf -- "$value" ;;
  esac
done < "$list"
rm -f -- "$list"
`;

function writeWatchList(): void {
  const lines = [...[...liveGroups].map((pg) => `pg ${pg}`), ...[...tempDirs].map((d) => `dir ${d}`)];
  try {
    writeFileSync(watchFile, lines.length ? lines.join("\n") + "\n" : "");
  } catch {
    // the exit hook still covers the ordinary cases
  }
  if (watchdogPid === undefined && lines.length > 0) {
    const dog = spawn(
      "/bin/sh",
      ["-c", WATCHDOG, "cordon-harness-watchdog", String(process.pid), watchFile],
      {
        detached: true,
        stdio: "ignore",
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", KEEP: process.env["CORDON_KEEP_TMP"] ?? "" },
      },
    );
    dog.on("error", () => undefined);
    dog.unref();
    watchdogPid = dog.pid;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function cleanupNow(): void {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
  liveGroups.clear();
  if (process.env["CORDON_KEEP_TMP"] === "1") tempDirs.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: the OS cleans tmp eventually
    }
  }
  tempDirs.clear();
  rmSync(watchFile, { force: true });
  if (watchdogPid !== undefined) killGroup(watchdogPid, "SIGKILL");
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", cleanupNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanupNow();
      // Re-raise with the default action so the exit status still tells what happened.
      process.kill(process.pid, signal);
    });
  }
}

/** Removes the directory when the test process exits (unless CORDON_KEEP_TMP=1). */
export function registerTempDir(dir: string): void {
  installHooks();
  tempDirs.add(dir);
  writeWatchList();
}

/** Removes a registered temp dir now. */
export function removeTempDir(dir: string): void {
  tempDirs.delete(dir);
  writeWatchList();
  if (process.env["CORDON_KEEP_TMP"] === "1") return;
  rmSync(dir, { recursive: true, force: true });
}

/** Starts a long-running server in its own process group, output appended to logFile. */
export function spawnManaged(command: string, args: string[], options: SpawnOptions): ManagedProcess {
  installHooks();
  const fd = openSync(options.logFile, "a");
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (info) return;
      info = { code, signal };
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      writeWatchList();
      resolve(info);
    };
    child.once("exit", done);
    child.once("error", () => done(null, null));
  });
  const pid = child.pid ?? -1;
  if (pid > 0) liveGroups.add(pid);
  writeWatchList();
  // The child's lifetime is managed explicitly; do not keep the event loop alive for it.
  child.unref();

  const managed: ManagedProcess = {
    pid,
    exited,
    exitInfo: () => info,
    async terminate(graceMs: number): Promise<void> {
      if (info || pid <= 0) return;
      child.ref(); // keep the event loop alive until the exit event arrives
      killGroup(pid, "SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (result === "timeout") await managed.kill();
      // Helpers of the group (if any) must not outlive the leader.
      killGroup(pid, "SIGKILL");
    },
    async kill(): Promise<void> {
      if (pid <= 0) return;
      if (!info) child.ref(); // keep the event loop alive until the exit event arrives
      killGroup(pid, "SIGKILL");
      await exited;
    },
  };
  return managed;
}

export interface CommandResult {
  code: number | null;
  output: string;
}

/** Runs a short command to completion; rejects with CommandFailedError on a non-zero exit. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 30_000,
      killSignal: "SIGKILL",
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.once("error", (err) =>
      reject(new CommandFailedError(`${command} ${args.join(" ")}`, null, err.message)),
    );
    child.once("close", (code) => {
      if (code === 0 || options.allowFailure) resolve({ code, output });
      else reject(new CommandFailedError(`${command} ${args.join(" ")}`, code, output));
    });
  });
}

/** The last `lines` lines of a text file ("" if it does not exist). */
export function tailFile(path: string, lines: number): string {
  if (!existsSync(path)) return "";
  const text = readFileSync(path, "utf8");
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return all.slice(-lines).join("\n");
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
