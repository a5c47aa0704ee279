// Starts a throwaway redis-server on 127.0.0.1 with a free port, no persistence, in a temp dir.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort, terminate, track, waitForPort } from "./process-tools.js";

export interface RedisInstance {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Terminates the server (SIGTERM) and removes its temp dir. Final. */
  stop(): Promise<void>;
  /** SIGKILLs the server, keeping the port reserved for restart(): simulates a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (killing it first if it is still running). Data is gone unless started `persistent`. */
  restart(): Promise<void>;
  /** SIGSTOPs the server: connections stay open and nothing is answered (a stalled Redis). */
  pause(): void;
  /** SIGCONTs a paused server. */
  resume(): void;
}

export interface RedisOptions {
  /** redis-server binary (default "redis-server" from PATH). */
  binary?: string;
  /** Keep data across kill()/restart() (append-only file, fsync on every write), as a production Redis would. */
  persistent?: boolean;
  startTimeoutMs?: number;
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisInstance> {
  const binary = opts.binary ?? "redis-server";
  const timeout = opts.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), "cordon-redis-"));
  const port = await freeLoopbackPort();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const c = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--protected-mode",
        "yes",
        "--save",
        "",
        ...(opts.persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
        "--dir",
        dir,
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        "--logfile",
        join(dir, "redis.log"),
      ],
      { stdio: "ignore" },
    );
    track(c);
    child = c;
    await waitForPort(port, timeout, c);
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child !== undefined) await terminate(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (child !== undefined) await terminate(child, "SIGKILL");
    },
    async restart() {
      if (child !== undefined) await terminate(child, "SIGKILL");
      await launch();
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
  };
}

export interface RedisSentinel {
  readonly port: number;
  /** The master group name it monitors. */
  readonly name: string;
  stop(): Promise<void>;
}

/**
 * A Redis Sentinel on 127.0.0.1 (redis-server in sentinel mode, its own temp dir and config)
 * monitoring `master` as group `name` with a quorum of 1.
 */
export async function startRedisSentinel(
  master: RedisInstance,
  name = "cordon",
  opts: RedisOptions = {},
): Promise<RedisSentinel> {
  const binary = opts.binary ?? "redis-server";
  const dir = mkdtempSync(join(tmpdir(), "cordon-sentinel-"));
  const port = await freeLoopbackPort();
  const config = join(dir, "sentinel.conf");
  writeFileSync(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `logfile ${join(dir, "sentinel.log")}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      "",
    ].join("\n"),
  );
  const child = spawn(binary, [config, "--sentinel"], { stdio: "ignore" });
  track(child);
  await waitForPort(port, opts.startTimeoutMs ?? 10_000, child);
  return {
    port,
    name,
    async stop() {
      await terminate(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
