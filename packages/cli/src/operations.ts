// The operator side of `cordon start`: one metrics registry and link book per process, the store
// instrumented, policy hot reload on SIGHUP, and the admin HTTP API when the config has `admin:`.
import type { CordonConfig, Logger } from "@cordon/component";
import type { RuntimeEnvironment } from "./environment.js";
import { createMetrics, type CordonMetrics } from "./metrics/registry.js";
import { LinkBook } from "./metrics/link-book.js";
import { instrumentStore } from "./metrics/store-metrics.js";
import { PolicyReloader } from "./reload.js";
import type { OpsContext } from "./runners/ops.js";
import type { RunningComponent } from "./runners/runner.js";
import { readAdminSection } from "./admin/config.js";
import { createAdminHandler, type AdminProviders, type Who } from "./admin/handler.js";
import { ConsoleAuth } from "./admin/console.js";
import { OverviewCollector } from "./metrics/overview.js";
import { startAdminServer, type AdminServer } from "./admin/server.js";
import type { PeopleContext } from "./admin/routes/people.js";
import type { CatalogQuery } from "@cordon/catalog";
import { AdminConfigError, ConsoleUnauditedError } from "./ops-errors.js";
import { ensureSecretFile } from "./state-dir.js";
import type { AuditSink } from "@cordon/relay";
import { assertAuditWritable, recordEventWritten } from "./audit-log.js";
import type { AuditLogRef, BoundaryProvider } from "./admin/routes/boundary.js";

export function createOpsContext(): OpsContext & { metrics: CordonMetrics } {
  const metrics = createMetrics();
  return { metrics, links: new LinkBook(metrics) };
}

/**
 * Waits (bounded) for a Redis store's first connection, so start-up reads (persistent rooms,
 * preset rooms) do not fail on a store that is still connecting; then times the store's (and the
 * directory resolver's) operations. Call once, right after building.
 */
export async function prepareEnvironment(
  env: RuntimeEnvironment,
  metrics: CordonMetrics,
  logger: Logger,
): Promise<RuntimeEnvironment> {
  const store = env.store as { ready?: (timeoutMs?: number) => Promise<void> };
  if (typeof store.ready === "function") {
    await store
      .ready(10_000)
      .catch((error: unknown) =>
        logger.warn(
          { err: (error as Error).message },
          "the store is not reachable yet; starting anyway (lookups answer unknown: fail closed)",
        ),
      );
  }
  return instrumentEnvironment(env, metrics);
}

/** Times the store's (and the directory resolver's) operations. */
export function instrumentEnvironment(env: RuntimeEnvironment, metrics: CordonMetrics): RuntimeEnvironment {
  const users = env.users === env.store ? undefined : env.users;
  env.store = instrumentStore(env.store, metrics, "store");
  env.users = users ? instrumentStore(users, metrics, "users") : env.store;
  return env;
}

export interface Operations {
  readonly admin: AdminServer | undefined;
  readonly reloader: PolicyReloader | undefined;
  /** The web console's URL with a one-time login token (valid once, 10 minutes), when the admin API runs. */
  readonly consoleUrl: string | undefined;
  stop(): Promise<void>;
}

export async function startOperations(options: {
  config: CordonConfig;
  only: string[] | undefined;
  logger: Logger;
  ops: OpsContext & { metrics: CordonMetrics };
  running: RunningComponent[];
  /** The shared environment, when some component built it. */
  environment: RuntimeEnvironment | undefined;
  /** The process's audit log: clearance changes and policy reloads are recorded in it. */
  audit?: AuditSink;
  /** Its file and key, for browsing and verifying it from the console. */
  auditLog?: AuditLogRef;
}): Promise<Operations> {
  const { config, logger, ops, running, environment: env, audit } = options;
  /** A policy reload, audited (issue 16 item 9) whether it took effect or was refused. */
  const auditedReload = async (r: PolicyReloader, via: "admin-api" | "sighup", who?: Who) => {
    const actor = who ? { actor: who.user } : {};
    assertAuditWritable(audit);
    let summary: Awaited<ReturnType<PolicyReloader["reload"]>>;
    try {
      summary = await r.reload();
    } catch (error) {
      await recordEventWritten(
        audit,
        {
          component: "admin",
          action: "policy-reload",
          decision: "deny",
          reason: via,
          ...actor,
          detail: (error as { code?: string }).code ?? "error",
        },
        logger,
      ).catch(() => undefined); // the refusal is what the caller hears either way
      throw error;
    }
    // Answered once the log tells it (recordEventWritten).
    await recordEventWritten(
      audit,
      {
        component: "admin",
        action: "policy-reload",
        decision: "change",
        reason: via,
        ...actor,
        detail: `generation ${summary.generation}`,
      },
      logger,
    );
    return summary;
  };
  let reloader: PolicyReloader | undefined;
  let onHup: (() => void) | undefined;
  if (env) {
    const r = new PolicyReloader(env, { logger, metrics: ops.metrics });
    for (const component of running)
      if (component.ops?.rebinder) r.add(component.name, component.ops.rebinder);
    reloader = r;
    // SIGHUP: reload policies (systemd `ExecReload=/bin/kill -HUP $MAINPID`); errors are logged by the reloader.
    onHup = () => {
      logger.info("SIGHUP: reloading policies");
      auditedReload(r, "sighup").catch(() => undefined);
    };
    process.on("SIGHUP", onHup);
  }
  const only = options.only?.length === 1 ? options.only[0] : undefined;
  const settings = readAdminSection(config.root, only);
  let admin: AdminServer | undefined;
  let overview: OverviewCollector | undefined;
  let consoleUrl: string | undefined;
  if (settings) {
    const components = () =>
      running.map((c) => {
        const links = ops.links.links(c.name);
        return { name: c.name, ready: links.length > 0 && links.every((l) => l.online), links };
      });
    // The console's Overview: totals and a bounded time series from the process's metrics.
    const collector = new OverviewCollector({
      metrics: ops.metrics,
      components: () =>
        components().map((c) => ({
          name: c.name,
          ready: c.ready,
          links: c.links.map((l) => ({
            name: l.domain,
            state: l.status,
            online: l.online,
            reconnects: l.reconnects,
            queueDepth: l.queueDepth,
          })),
        })),
      store: env
        ? { kind: config.root.optionalSection("store")?.has("redis") ? "redis" : "memory", store: env.store }
        : undefined,
      directory: env?.directory ? env.users : undefined,
      intervalMs: settings.console.overviewSampleSeconds * 1000,
    }).start();
    overview = collector;
    const providers: AdminProviders = {
      components,
      overview: () => collector.overview(),
      rooms: () => running.find((c) => c.ops?.rooms !== undefined)?.ops?.rooms,
      boundary: () => boundaryProvider(running, options.auditLog),
      changeAudit: {
        assertWritable: () => assertAuditWritable(audit),
        record: (event) => recordEventWritten(audit, event, logger),
      },
      metrics: () => ops.metrics.text(),
      ...(env ? { people: peopleContext(env, running, reloader, logger, audit) } : {}),
    };
    // A token always (issue 16 item 12): the configured one, else the one generated at first start.
    let token = settings.token;
    if (token === undefined) {
      const generated = ensureSecretFile(settings.tokenFile);
      token = generated.secret;
      if (token.length < 16)
        throw new AdminConfigError("admin.tokenFile", `${settings.tokenFile}: shorter than 16 characters`);
      logger.info(
        { tokenFile: settings.tokenFile },
        generated.created ? "admin API token generated (mode 0600)" : "admin API token read",
      );
    }
    // The web console (issue 18): sessions, logins (audited), one-time login links, assets.
    const consoleAuth = new ConsoleAuth({
      token,
      users: settings.console.users,
      secureCookie: settings.console.secureCookie,
      onLogin: async (e) => {
        // Every change made in the console is audited with who made it: no log, no login.
        if (!audit) throw new ConsoleUnauditedError();
        assertAuditWritable(audit);
        logger.info(
          { user: e.user, method: e.method, granted: e.granted, unrecorded: e.unrecorded },
          "console login",
        );
        await recordEventWritten(
          audit,
          {
            component: "admin",
            action: "console-login",
            decision: e.granted ? "grant" : "deny",
            reason: e.method,
            actor: e.user,
            ...(e.unrecorded !== undefined
              ? { detail: `${e.unrecorded} refused logins before this one not recorded one by one` }
              : {}),
          },
          logger,
        );
      },
    });
    admin = await startAdminServer({
      host: settings.host,
      port: settings.port,
      handler: createAdminHandler(providers, { token, hosts: settings.hosts, console: consoleAuth }),
      logger,
    });
    logger.info(
      { url: admin.url, ...(settings.token === undefined ? { tokenFile: settings.tokenFile } : {}) },
      "admin API listening (bearer token required)",
    );
    // The console's address with a one-time login token, printed once (never logged: the log may be
    // kept or shipped; the token is in the fragment, so it is never sent in a request line).
    consoleUrl = `${admin.url}/console/#token=${consoleAuth.oneTime.issue()}`;
    process.stdout.write(`Console: ${consoleUrl}\n  (a one-time login link, valid for 10 minutes)\n`);
  }
  return {
    admin,
    reloader,
    consoleUrl,
    async stop() {
      if (onHup) process.off("SIGHUP", onHup);
      overview?.stop();
      await admin?.close();
    },
  };
}

/** The relay's peerings and the audit logs of this process, for the console's boundary page. */
function boundaryProvider(
  running: readonly RunningComponent[],
  processLog: AuditLogRef | undefined,
): BoundaryProvider {
  const relay = running.find((c) => c.ops?.peerings !== undefined)?.ops;
  return {
    relay: () =>
      relay?.peerings ? { counters: relay.peerings(), peerings: relay.peeringViews?.() ?? [] } : undefined,
    auditLogs: () => [...(relay?.auditLog ? [relay.auditLog] : []), ...(processLog ? [processLog] : [])],
  };
}

/** What the clearance, policy and catalog routes work on, from the running process (admin/routes). */
function peopleContext(
  env: RuntimeEnvironment,
  running: RunningComponent[],
  reloader: PolicyReloader | undefined,
  logger: Logger,
  audit: AuditSink | undefined,
): PeopleContext {
  const ops = running.find((c) => c.ops?.catalog !== undefined)?.ops;
  const catalog = ops?.catalog ? (query: CatalogQuery) => ops.catalog!(query) : undefined;
  return {
    registry: () => env.registry,
    governing: () => env.governing,
    store: env.store,
    directory: env.directory,
    audit,
    logger,
    ...(reloader
      ? { reload: () => reloader.reload(), uploadPolicy: (text: string) => reloader.reload({ upload: text }) }
      : {}),
    ...(catalog ? { catalog } : {}),
  };
}
