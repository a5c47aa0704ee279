// A private ejabberd 23.01 cluster on loopback: N Erlang nodes (ejabberd1-<port>@localhost, …)
// sharing one cookie and a private epmd (its own port: the machine's epmd on 4369 is not touched),
// each with its own config, Mnesia spool, logs and listeners, the second and later joined to the
// first with `ejabberdctl join_cluster` (Mnesia then shares the route, session and user tables).
// Each node is an XmppServer, so clients and components attach to the node of their choice.
import { mkdtempSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ejabberdDriver, type EjabberdDriver } from "./ejabberd.js";
import { freePort, isListening } from "./ports.js";
import { delay, registerTempDir, removeTempDir, spawnManaged, type ManagedProcess } from "./process.js";
import { ServerStartError } from "./errors.js";
import type { ServerLayout } from "./server-driver.js";
import type { ServerOptions, XmppServer } from "./types.js";

export interface EjabberdClusterOptions extends Pick<
  ServerOptions,
  "domain" | "components" | "users" | "componentBalancing"
> {
  /** Nodes (default 2). */
  nodes?: number;
  /** Readiness timeout per node, default 60 s. */
  startTimeoutMs?: number;
}

export interface EjabberdCluster {
  /** The nodes, first the one the others joined. */
  readonly nodes: readonly XmppServer[];
  /** The Erlang node names, in the same order. */
  readonly nodeNames: readonly string[];
  /** `ejabberdctl` on node i (e.g. `list_cluster`). */
  ctl(i: number, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

class ClusterNode implements XmppServer {
  readonly kind = "ejabberd" as const;
  readonly host = "127.0.0.1" as const;
  readonly certificateFile = undefined;
  startupMs = 0;
  proc: ManagedProcess | undefined;
  private stopped = false;

  constructor(
    readonly domain: string,
    readonly layout: ServerLayout,
    readonly driver: EjabberdDriver,
    private readonly hasComponents: boolean,
  ) {}

  get c2sPort(): number {
    return this.layout.c2sPort;
  }
  get componentPort(): number {
    return this.layout.componentPort;
  }
  get httpPort(): number {
    return 0;
  }
  get dir(): string {
    return this.layout.dir;
  }
  evalErlang(expressions: string): Promise<string> {
    return this.driver.evalErlang(expressions);
  }
  get pid(): number | undefined {
    return this.stopped || this.proc?.exitInfo() ? undefined : this.proc?.pid;
  }

  /** Waits until the listeners answer and `ejabberdctl status` succeeds. */
  async waitReady(timeoutMs: number): Promise<void> {
    const started = Date.now();
    const ports = [this.c2sPort, ...(this.hasComponents ? [this.componentPort] : [])];
    for (;;) {
      const exit = this.proc?.exitInfo();
      if (exit)
        throw new ServerStartError(
          this.driver.label,
          `exited (code ${exit.code}, signal ${exit.signal})`,
          this.logTail(40),
        );
      const up = (await Promise.all(ports.map(isListening))).every(Boolean);
      if (up && (await this.driver.ready())) {
        this.startupMs = Date.now() - started;
        return;
      }
      if (Date.now() - started > timeoutMs)
        throw new ServerStartError(this.driver.label, `not ready after ${timeoutMs} ms`, this.logTail(40));
      await delay(100);
    }
  }

  async launch(timeoutMs: number): Promise<void> {
    this.proc = this.driver.spawn();
    await this.waitReady(timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.proc?.terminate(5_000);
    removeTempDir(this.layout.dir);
  }
  async restart(): Promise<void> {
    await this.proc?.terminate(10_000);
    await this.launch(60_000);
  }
  async kill(): Promise<void> {
    await this.proc?.kill();
  }
  logTail(lines = 60): string {
    return this.driver.logTail(lines);
  }
  async addUser(username: string, password: string, domain?: string): Promise<void> {
    await this.driver.addUser(username, password, domain ?? this.domain);
  }
}

/** Starts the nodes, joins them into one cluster and registers the users (shared by Mnesia). */
export async function startEjabberdCluster(options: EjabberdClusterOptions = {}): Promise<EjabberdCluster> {
  const count = options.nodes ?? 2;
  const domain = options.domain ?? "example.test";
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const components = options.components ?? [];
  const cookie = randomBytes(12).toString("hex");
  const epmdPort = await freePort();
  const epmdDir = mkdtempSync(join(tmpdir(), "cordon-epmd-"));
  registerTempDir(epmdDir);
  // A private epmd, in the foreground so the harness owns (and kills) it.
  const epmd = spawnManaged("epmd", ["-port", String(epmdPort), "-address", "127.0.0.1"], {
    cwd: epmdDir,
    logFile: join(epmdDir, "epmd.log"),
  });
  const nodes: ClusterNode[] = [];
  const stopAll = async (): Promise<void> => {
    for (const n of [...nodes].reverse()) await n.stop().catch(() => undefined);
    await epmd.terminate(2_000);
    removeTempDir(epmdDir);
  };
  try {
    for (let i = 0; i < 50 && !(await isListening(epmdPort)); i++) await delay(50);
    const tag = randomBytes(3).toString("hex");
    for (let i = 1; i <= count; i++) {
      const dir = mkdtempSync(join(tmpdir(), `cordon-ejabberd${i}-`));
      registerTempDir(dir);
      const layout: ServerLayout = {
        dir,
        c2sPort: await freePort(),
        componentPort: await freePort(),
        httpPort: 0,
        controlPort: 0, // the distribution port is picked by the node and published in epmd
      };
      const driver = ejabberdDriver(
        layout,
        {
          domain,
          components,
          delegations: [],
          extraDomains: [],
          ...(options.componentBalancing ? { componentBalancing: options.componentBalancing } : {}),
        },
        { name: `ejabberd${i}-${tag}@localhost`, cookie, epmdPort },
      );
      const node = new ClusterNode(domain, layout, driver, components.length > 0);
      nodes.push(node);
      await node.launch(timeoutMs);
    }
    const first = nodes[0]!;
    for (const node of nodes.slice(1)) {
      // join_cluster restarts ejabberd on the joining node with the first node's Mnesia tables.
      await node.driver.ctl(["join_cluster", first.driver.node]);
      await node.waitReady(timeoutMs);
    }
    if ((options.users ?? []).length > 0) await first.driver.addUsers(options.users ?? [], domain);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    nodes,
    nodeNames: nodes.map((n) => n.driver.node),
    async ctl(i, args) {
      const node = nodes[i];
      if (!node) throw new RangeError(`no node ${i}`);
      return (await node.driver.ctl(args)).output;
    },
    stop: stopAll,
  };
}
