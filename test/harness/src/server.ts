// Starts real XMPP servers for tests: picks free loopback ports, writes the config into a temp
// dir, waits until the server answers, registers users, and cleans everything up.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, isListening } from "./ports.js";
import { testCertificatePaths } from "./tls-cert.js";
import { delay, registerTempDir, removeTempDir } from "./process.js";
import type { ManagedProcess } from "./process.js";
import {
  ServerStartError,
  ServerStoppedError,
  UnknownServerKindError,
  UnsupportedServerFeatureError,
} from "./errors.js";
import { prosodyDriver } from "./prosody.js";
import { ejabberdDriver } from "./ejabberd.js";
import type { ServerDriver, ServerLayout } from "./server-driver.js";
import type { ServerKind, ServerOptions, XmppServer } from "./types.js";

const KINDS: readonly ServerKind[] = ["prosody", "ejabberd"];
const START_ATTEMPTS = 3;

/** Server kinds to test against: env CORDON_E2E_SERVERS (comma list), default both. */
export function serverKinds(): ServerKind[] {
  const env = process.env["CORDON_E2E_SERVERS"]?.trim();
  if (!env) return [...KINDS];
  const kinds = env
    .split(",")
    .map((k) => k.trim().toLowerCase())
    .filter(Boolean);
  for (const k of kinds) if (!KINDS.includes(k as ServerKind)) throw new UnknownServerKindError(k);
  return [...new Set(kinds as ServerKind[])];
}

type Resolved = Required<
  Pick<ServerOptions, "domain" | "components" | "delegations" | "extraDomains" | "users">
> &
  Pick<
    ServerOptions,
    | "nativeMuc"
    | "componentBalancing"
    | "starttls"
    | "guard"
    | "extraModules"
    | "wrapper"
    | "bosh"
    | "prosodyGc"
  > & {
    startTimeoutMs: number;
  };

class StartFailure extends Error {
  constructor(
    readonly bindConflict: boolean,
    readonly reason: string,
  ) {
    super(reason);
  }
}

class RunningServer implements XmppServer {
  readonly host = "127.0.0.1" as const;
  startupMs = 0;
  private proc: ManagedProcess | undefined;
  private stopped = false;

  get pid(): number | undefined {
    return this.stopped || this.proc?.exitInfo() ? undefined : this.proc?.pid;
  }

  constructor(
    readonly kind: ServerKind,
    readonly domain: string,
    private readonly layout: ServerLayout,
    private readonly driver: ServerDriver,
    private readonly options: Resolved,
  ) {}

  get c2sPort(): number {
    return this.layout.c2sPort;
  }
  get componentPort(): number {
    return this.layout.componentPort;
  }
  get httpPort(): number {
    return this.layout.httpPort;
  }
  get certificateFile(): string | undefined {
    return this.options.starttls ? testCertificatePaths(this.layout.dir).certFile : undefined;
  }
  get dir(): string {
    return this.layout.dir;
  }

  /** Spawns the process and waits until every listener answers; throws StartFailure. */
  async launch(): Promise<void> {
    const started = Date.now();
    const proc = this.driver.spawn();
    this.proc = proc;
    const deadline = started + this.options.startTimeoutMs;
    const ports = [this.layout.c2sPort];
    if (this.options.components.length > 0) ports.push(this.layout.componentPort);
    let portsUp = false;
    for (;;) {
      const exit = proc.exitInfo();
      if (exit) {
        throw new StartFailure(
          this.driver.bindFailed(),
          `process exited (code ${exit.code}, signal ${exit.signal}) before it was ready`,
        );
      }
      if (this.driver.bindFailed()) {
        await proc.kill();
        throw new StartFailure(true, "a listener could not bind its port");
      }
      // The deadline first: a port answering at once may be another process's (freePort hands a port
      // that was free a moment ago; the suite runs files in several processes), and a start given
      // no time must not pass on it (CI, session 17: "a start that times out" resolved).
      if (Date.now() > deadline) {
        await proc.kill();
        throw new StartFailure(
          false,
          `not ready after ${this.options.startTimeoutMs} ms (ports ${ports.join(", ")} ${portsUp ? "open" : "not all open"})`,
        );
      }
      if (!portsUp) portsUp = (await Promise.all(ports.map(isListening))).every(Boolean);
      if (portsUp && (await this.driver.ready())) {
        // A listener that failed to bind may only be logged now; re-check before trusting the ports.
        if (this.driver.bindFailed()) {
          await proc.kill();
          throw new StartFailure(true, "a listener could not bind its port");
        }
        this.startupMs = Date.now() - started;
        return;
      }
      await delay(50);
    }
  }

  async addUser(username: string, password: string, domain?: string): Promise<void> {
    if (this.stopped) throw new ServerStoppedError(this.driver.label);
    await this.driver.addUser(username, password, domain ?? this.domain);
  }

  async addUsers(users: { username: string; password: string }[]): Promise<void> {
    await this.driver.addUsers(users, this.domain);
  }

  logTail(lines = 60): string {
    return this.driver.logTail(lines);
  }

  async evalErlang(expressions: string): Promise<string> {
    if (this.stopped) throw new ServerStoppedError(this.driver.label);
    if (!this.driver.evalErlang) throw new UnsupportedServerFeatureError(this.kind, "evalErlang");
    return this.driver.evalErlang(expressions);
  }

  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new ServerStoppedError(this.driver.label);
    await this.proc?.terminate(10_000);
    try {
      await this.launch();
    } catch (err) {
      const reason = err instanceof StartFailure ? err.reason : String(err);
      throw new ServerStartError(`${this.driver.label} (restart)`, reason, this.logTail(40));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.proc?.terminate(5_000);
    removeTempDir(this.layout.dir);
  }
}

function resolveOptions(options: ServerOptions): Resolved {
  return {
    domain: options.domain ?? "example.test",
    components: options.components ?? [],
    delegations: options.delegations ?? [],
    extraDomains: options.extraDomains ?? [],
    users: options.users ?? [],
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    ...(options.nativeMuc ? { nativeMuc: options.nativeMuc } : {}),
    ...(options.componentBalancing ? { componentBalancing: options.componentBalancing } : {}),
    ...(options.starttls ? { starttls: true } : {}),
    ...(options.bosh ? { bosh: true } : {}),
    ...(options.guard ? { guard: options.guard } : {}),
    ...(options.extraModules ? { extraModules: options.extraModules } : {}),
    ...(options.wrapper ? { wrapper: options.wrapper } : {}),
    ...(options.prosodyGc ? { prosodyGc: options.prosodyGc } : {}),
  };
}

/** Starts a private server of the given kind on loopback; resolves once it is ready and users exist. */
export async function startServer(kind: ServerKind, options: ServerOptions = {}): Promise<XmppServer> {
  if (!KINDS.includes(kind)) throw new UnknownServerKindError(kind);
  const resolved = resolveOptions(options);
  let lastReason = "";
  let lastTail = "";
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `cordon-${kind}-`));
    registerTempDir(dir);
    const layout: ServerLayout = {
      dir,
      c2sPort: options.ports?.c2s ?? (await freePort()),
      componentPort: options.ports?.component ?? (await freePort()),
      httpPort: options.bosh ? await freePort() : 0,
      controlPort: await freePort(),
    };
    let driver: ServerDriver;
    try {
      driver = kind === "prosody" ? prosodyDriver(layout, resolved) : ejabberdDriver(layout, resolved);
    } catch (err) {
      removeTempDir(dir);
      throw err;
    }
    const server = new RunningServer(kind, resolved.domain, layout, driver, resolved);
    try {
      await server.launch();
    } catch (err) {
      if (!(err instanceof StartFailure)) {
        await server.stop();
        throw err;
      }
      lastReason = err.reason;
      lastTail = server.logTail(40);
      await server.stop();
      if (err.bindConflict) continue;
      break;
    }
    try {
      await server.addUsers(resolved.users);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }
  throw new ServerStartError(`${kind} on 127.0.0.1`, lastReason, lastTail);
}

export function startProsody(options?: ServerOptions): Promise<XmppServer> {
  return startServer("prosody", options);
}

export function startEjabberd(options?: ServerOptions): Promise<XmppServer> {
  return startServer("ejabberd", options);
}
