// A real Redis Sentinel set-up from the Debian redis-server binary alone: one primary, replicas
// (`redis-server --replicaof`), and several sentinels (`redis-server sentinel.conf --sentinel`), all on
// 127.0.0.1, free ports, temp dirs, torn down by stop(). Used to test failover during traffic
// (Redis documentation, "High availability with Redis Sentinel": a quorum of sentinels agrees the
// primary is down after `down-after-milliseconds`, one is elected leader and promotes a replica).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freeLoopbackPort, terminate, track, waitForPort } from "./process-tools.js";

const run = promisify(execFile);

export interface SentinelSetOptions {
  /** Master group name (default "cordon"). */
  name?: string;
  /** Replicas of the primary (default 1). */
  replicas?: number;
  /** Sentinels (default 3, quorum 2). */
  sentinels?: number;
  /** `sentinel down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `sentinel failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
  /** redis-server binary (default from PATH). */
  binary?: string;
  startTimeoutMs?: number;
}

export interface SentinelRedisNode {
  readonly port: number;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (as a replica of `replicaOfPort` when given; Sentinel reconfigures it anyway). */
  restart(replicaOfPort?: number): Promise<void>;
  readonly running: boolean;
}

export interface RedisSentinelSet {
  readonly name: string;
  /** The sentinels' addresses, as a client configures them. */
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** Primary first, then the replicas, in start order. */
  readonly nodes: readonly SentinelRedisNode[];
  /** Port of the primary as the sentinels announce it now (asks each sentinel until one answers). */
  primaryPort(): Promise<number>;
  /** SIGKILLs the current primary; returns it. */
  killPrimary(): Promise<SentinelRedisNode>;
  /** Resolves with the new primary's port once a sentinel announces one other than `oldPort`. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Resolves once every replica reports its link to the primary up (so writes reach them). */
  waitForReplication(timeoutMs?: number): Promise<void>;
  /**
   * Resolves once every running replica has processed everything the primary had written when called
   * (its `slave_repl_offset` reaches the primary's `master_repl_offset`, INFO replication). Replication is
   * asynchronous; a test that kills the primary calls this first so what it checks afterwards was copied.
   * (WAIT would not do: it waits for the writes of its own connection only.)
   */
  syncReplicas(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "--raw", ...args], {
    timeout: 5000,
  });
  return stdout;
}

export async function startRedisSentinelSet(opts: SentinelSetOptions = {}): Promise<RedisSentinelSet> {
  const binary = opts.binary ?? "redis-server";
  const name = opts.name ?? "cordon";
  const timeout = opts.startTimeoutMs ?? 10_000;
  const replicaCount = opts.replicas ?? 1;
  const sentinelCount = opts.sentinels ?? 3;
  const quorum = Math.floor(sentinelCount / 2) + 1;
  const root = mkdtempSync(join(tmpdir(), "cordon-sentinel-set-"));
  const children = new Set<ChildProcess>();

  const spawnTracked = (args: string[]): ChildProcess => {
    const c = spawn(binary, args, { stdio: "ignore" });
    track(c);
    children.add(c);
    c.once("exit", () => children.delete(c));
    return c;
  };

  const node = async (index: number, replicaOf: number | undefined): Promise<SentinelRedisNode> => {
    const port = await freeLoopbackPort();
    let child: ChildProcess | undefined;
    const launch = async (of: number | undefined): Promise<void> => {
      const nodeDir = mkdtempSync(join(root, `redis-${index}-`));
      const c = spawnTracked([
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        nodeDir,
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        "--logfile",
        join(nodeDir, "redis.log"),
        ...(of !== undefined ? ["--replicaof", "127.0.0.1", String(of)] : []),
      ]);
      child = c;
      await waitForPort(port, timeout, c);
    };
    await launch(replicaOf);
    return {
      port,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        if (child !== undefined) await terminate(child, "SIGKILL");
      },
      async restart(of?: number) {
        if (child !== undefined) await terminate(child, "SIGKILL");
        await launch(of);
      },
    };
  };

  const nodes: SentinelRedisNode[] = [];
  const sentinels: Array<{ host: string; port: number }> = [];
  try {
    const primary = await node(0, undefined);
    nodes.push(primary);
    for (let i = 1; i <= replicaCount; i++) nodes.push(await node(i, primary.port));
    for (let i = 0; i < sentinelCount; i++) {
      const dir = mkdtempSync(join(root, `sentinel-${i}-`));
      const port = await freeLoopbackPort();
      const config = join(dir, "sentinel.conf");
      // Sentinel rewrites this file (it must be writable): redis.io "Sentinel configuration".
      writeFileSync(
        config,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `logfile ${join(dir, "sentinel.log")}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 5000}`,
          `sentinel parallel-syncs ${name} 1`,
          "",
        ].join("\n"),
      );
      const c = spawnTracked([config, "--sentinel"]);
      await waitForPort(port, timeout, c);
      sentinels.push({ host: "127.0.0.1", port });
    }
  } catch (err) {
    for (const c of [...children]) await terminate(c, "SIGKILL");
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  const primaryPort = async (): Promise<number> => {
    for (const s of sentinels) {
      try {
        const out = (await cli(s.port, "SENTINEL", "get-master-addr-by-name", name)).trim().split("\n");
        const port = Number(out[1]);
        if (Number.isInteger(port) && port > 0) return port;
      } catch {
        // this sentinel does not answer: ask the next
      }
    }
    throw new Error("harness: no sentinel announces a primary");
  };

  const set: RedisSentinelSet = {
    name,
    sentinels,
    nodes,
    primaryPort,
    async killPrimary() {
      const port = await primaryPort();
      const victim = nodes.find((n) => n.port === port);
      if (victim === undefined) throw new Error(`harness: the announced primary ${port} is not ours`);
      await victim.kill();
      return victim;
    },
    async waitForFailover(oldPort: number, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const port = await primaryPort().catch(() => oldPort);
        if (port !== oldPort) return port;
        if (Date.now() > deadline) throw new Error(`harness: no failover within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitForReplication(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const primary = await primaryPort();
      for (const n of nodes) {
        if (n.port === primary || !n.running) continue;
        for (;;) {
          const info = await cli(n.port, "INFO", "replication").catch(() => "");
          if (/master_link_status:up/u.test(info)) break;
          if (Date.now() > deadline) throw new Error(`harness: replica ${n.port} not in sync`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      // The sentinels must know the replicas too, or none can be promoted.
      for (const s of sentinels) {
        for (;;) {
          const out = await cli(s.port, "SENTINEL", "replicas", name).catch(() => "");
          const known = nodes.filter((n) => n.port !== primary && out.includes(String(n.port))).length;
          const others = await cli(s.port, "SENTINEL", "sentinels", name).catch(() => "");
          const peers = sentinels.filter((p) => p.port !== s.port && others.includes(String(p.port))).length;
          if (known === nodes.length - 1 && peers === sentinels.length - 1) break;
          if (Date.now() > deadline) throw new Error(`harness: sentinel ${s.port} does not see the set yet`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async syncReplicas(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const primary = await primaryPort();
      const info = await cli(primary, "INFO", "replication");
      const target = Number(/^master_repl_offset:(\d+)/mu.exec(info)?.[1]);
      if (!Number.isFinite(target)) throw new Error("harness: the primary reports no replication offset");
      for (const n of nodes) {
        if (n.port === primary || !n.running) continue;
        for (;;) {
          const r = await cli(n.port, "INFO", "replication").catch(() => "");
          const offset = Number(/^slave_repl_offset:(\d+)/mu.exec(r)?.[1] ?? -1);
          if (offset >= target) break;
          if (Date.now() > deadline)
            throw new Error(`harness: replica ${n.port} behind (${offset} < ${target})`);
          await new Promise((res) => setTimeout(res, 20));
        }
      }
    },
    async stop() {
      for (const c of [...children]) await terminate(c, "SIGTERM");
      rmSync(root, { recursive: true, force: true });
    },
  };
  return set;
}
