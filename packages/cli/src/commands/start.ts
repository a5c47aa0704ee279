// `cordon start --config FILE [--only NAME]`: runs the configured components in this process.
// Each entry under `components:` is started by the runner registered for its name (`example`
// today; `muc`, `catalog`, `relay` as their packages land).
import { ConfigError, createLogger, installShutdown, loadConfigFile, type Logger } from "@cordon/component";
import type { Command } from "../command.js";
import { parseConfigArgs } from "./config-args.js";
import { buildEnvironment, type RuntimeEnvironment } from "../environment.js";
import type { ComponentRunner, RunningComponent, RunnerContext } from "../runners/runner.js";
import { createOpsContext, prepareEnvironment, startOperations, type Operations } from "../operations.js";
import { withConfigLine } from "../config-lines.js";
import { runExample } from "../runners/example.js";
import { runMuc } from "../runners/muc.js";
import { runCatalog } from "../runners/catalog.js";
import { runRelay } from "../runners/relay.js";
import { runGuard } from "../runners/guard.js";
import { anchorEveryMinute, openKeyedAuditLog, readProcessAudit } from "../audit-log.js";
import type { AuditLogRef } from "../admin/routes/boundary.js";
import { configPath } from "../state-dir.js";
import { configuredRedis } from "../redis-config.js";
import type { AuditSink } from "@cordon/relay";

export type { RunningComponent } from "../runners/runner.js";

const RUNNERS: Record<string, ComponentRunner> = {
  example: runExample,
  muc: runMuc,
  catalog: runCatalog,
  relay: runRelay,
  guard: runGuard,
};

export interface StartOptions {
  config: string;
  only?: string[];
}

export function parseStartArgs(args: readonly string[]): StartOptions {
  return parseConfigArgs(args, "usage: cordon start --config FILE [--only NAME[,NAME]]");
}

/** Starts everything; resolves with the running components (the process then waits for signals). */
export async function startComponents(options: StartOptions): Promise<{
  running: RunningComponent[];
  logger: Logger;
  shutdown: () => Promise<void>;
  operations: Operations;
}> {
  const config = loadConfigFile(options.config);
  const logger = createLogger({ level: config.log.level, redactJids: config.log.redactJids, name: "cordon" });
  // Last line of defence for "the service keeps running": a promise rejection nobody handled is a
  // bug to fix, not a reason to drop every room and link. Log it (with its code) and carry on.
  process.on("unhandledRejection", (reason) => {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    logger.error(
      { err: error.message, code: (error as { code?: string }).code },
      "unhandled rejection (bug): logged, service continues",
    );
  });
  const selected = [...config.components.entries()].filter(
    ([name]) => !options.only || options.only.includes(name),
  );
  if (options.only) {
    for (const name of options.only)
      if (!config.components.has(name))
        throw new ConfigError(`components.${name}`, "not configured (named by --only)", options.config);
  }
  for (const [name, section] of selected) {
    if (!RUNNERS[name])
      section.fail("", `unknown component "${name}" (known: ${Object.keys(RUNNERS).join(", ")})`);
  }
  const running: RunningComponent[] = [];
  let environment: Promise<RuntimeEnvironment> | undefined;
  // The process's audit log (issue 16 item 9): the MUC's and the catalog's decisions, admin changes.
  const configured = readProcessAudit(config.root);
  // One writer per chain: processes started with --only (one per component, systemd units) each
  // keep their own log, FILE with the components' names before its extension (audit.muc.jsonl).
  const auditSettings =
    configured && options.only
      ? { ...configured, file: perProcessFile(configured.file, options.only) }
      : configured;
  let audit: AuditSink | undefined;
  let auditLog: AuditLogRef | undefined;
  let stopAnchors: (() => void) | undefined;
  if (auditSettings) {
    const opened = await openKeyedAuditLog(auditSettings, config.root, logger, (p) =>
      configPath(config.root, p),
    );
    audit = opened.sink;
    auditLog = { name: "process", file: opened.file, key: opened.key };
    stopAnchors = anchorEveryMinute(audit, logger, configPath(config.root, auditSettings.file));
  }
  // Metrics, link observation, hot reload and the admin API (operations.ts).
  const ops = createOpsContext();
  const operator: { current?: Operations } = {};
  const redis = configuredRedis(config.root);
  const context: RunnerContext = {
    config,
    logger,
    ops,
    ...(audit ? { audit } : {}),
    ...(redis ? { redis } : {}),
    environment: () =>
      (environment ??= buildEnvironment(config, logger).then((env) =>
        prepareEnvironment(env, ops.metrics, logger),
      )),
  };
  // The admin API closes first, then the components, then the shared store and directory connections.
  const shutdown = installShutdown(
    [
      { stop: async () => operator.current?.stop() },
      { stop: () => Promise.all(running.map((r) => r.stop())).then(() => undefined) },
      {
        stop: async () => {
          stopAnchors?.();
          await audit?.close();
        },
      },
      { stop: async () => (await environment)?.close() },
    ],
    { logger },
  );
  try {
    for (const [name, section] of selected) {
      const runner = RUNNERS[name] as ComponentRunner;
      running.push(await runner(context, section));
      logger.info({ component: name }, "component started");
    }
  } catch (error) {
    // A component that cannot start (a config error only the server reveals, e.g. a clustered
    // MUC's slots on Prosody) ends the process: release what started so it can exit.
    await Promise.all(running.map((r) => r.stop().catch(() => undefined)));
    stopAnchors?.();
    await audit?.close().catch(() => undefined);
    await (await environment?.catch(() => undefined))?.close().catch(() => undefined);
    throw error;
  }
  const operations = await startOperations({
    config,
    only: options.only,
    logger,
    ops,
    running,
    environment: environment ? await environment : undefined,
    ...(audit ? { audit } : {}),
    ...(auditLog ? { auditLog } : {}),
  });
  operator.current = operations;
  return { running, logger, shutdown, operations };
}

/** `audit.jsonl` → `audit.muc.jsonl` for `--only muc` (`audit.muc+catalog.jsonl` for two). */
export function perProcessFile(file: string, only: readonly string[]): string {
  const m = /^(.*?)(\.[^./]*)?$/u.exec(file)!;
  return `${m[1]}.${only.join("+")}${m[2] ?? ""}`;
}

export const startCommand: Command = {
  name: "start",
  summary: "run the components of a config file: start --config FILE [--only NAME[,NAME]]",
  async run(args) {
    const options = parseStartArgs(args);
    try {
      await startComponents(options);
    } catch (error) {
      // main prints the error and exits with its status: nothing started may keep the process up.
      setTimeout(() => process.exit(process.exitCode ?? 2), 2000).unref();
      throw withConfigLine(error, options.config);
    }
    return -1; // keep running until SIGTERM/SIGINT (the shutdown handler exits)
  },
};
