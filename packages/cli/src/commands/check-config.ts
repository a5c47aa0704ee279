// `cordon check-config --config FILE [--only NAME[,NAME]]`: validates the config and everything it
// references — policies, labels, clearances, catalogs, relay peerings and rules — by building each
// component exactly as `cordon start` does, but connecting to nothing (the Redis store is replaced
// by an in-memory one; the LDAP directory is configured but never bound). Prints what it would
// connect to. Exit 0 when valid, 2 with the first error (key and file line) otherwise.
import {
  ConfigError,
  loadConfigFile,
  silentLogger,
  type ConfigReader,
  type CordonConfig,
} from "@cordon/component";
import { ConfigReader as Reader } from "@cordon/component";
import type { Command, CommandIo } from "../command.js";
import { parseConfigArgs, type ConfigArgs } from "./config-args.js";
import { buildEnvironment, type RuntimeEnvironment } from "../environment.js";
import { configErrorLine } from "../config-lines.js";
import { configuredRedis, type RedisSection } from "../redis-config.js";
import { readAdminSection } from "../admin/config.js";
import { auditKeyFile, readProcessAudit } from "../audit-log.js";
import { configPath } from "../state-dir.js";
import { runExample } from "../runners/example.js";
import { runMuc } from "../runners/muc.js";
import { runCatalog } from "../runners/catalog.js";
import { runRelay } from "../runners/relay.js";
import type { ComponentRunner, RunnerContext } from "../runners/runner.js";

const CHECKERS: Record<string, ComponentRunner> = {
  example: runExample,
  muc: runMuc,
  catalog: runCatalog,
  relay: runRelay,
};

const USAGE = "usage: cordon check-config --config FILE [--only NAME[,NAME]]";

export function parseCheckArgs(args: readonly string[]): ConfigArgs {
  return parseConfigArgs(args, USAGE);
}

/** The store section as check-config describes it; a Redis store is validated, not connected. */
function describeStore(root: ConfigReader): {
  line: string;
  offline: ConfigReader;
  redis?: RedisSection;
} {
  const redis = configuredRedis(root);
  if (!redis) return { line: "store: in-memory (embedded; not shared between processes)", offline: root };
  const { where, prefix } = redis;
  const { store: _dropped, ...rest } = root.value;
  void _dropped;
  return {
    line: `store: redis ${where}${prefix ? ` (key prefix ${prefix})` : ""}`,
    offline: new Reader(rest, root.path, root.file),
    redis,
  };
}

function describeDirectory(root: ConfigReader): string | undefined {
  const dir = root.optionalSection("directory");
  if (!dir) return undefined;
  let where = dir.string("url");
  try {
    const u = new URL(where);
    where = `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ""}`;
  } catch {
    dir.fail("url", "expected an ldap:// or ldaps:// URL");
  }
  return `directory: LDAP ${where} (base ${dir.string("baseDn")})`;
}

export async function checkConfig(file: string, only: string[] | undefined, io: CommandIo): Promise<number> {
  let env: RuntimeEnvironment | undefined;
  try {
    const config = loadConfigFile(file);
    const store = describeStore(config.root);
    const offline: CordonConfig = { ...config, root: store.offline };
    const selected = [...config.components.entries()].filter(([name]) => !only || only.includes(name));
    for (const name of only ?? [])
      if (!config.components.has(name))
        throw new ConfigError(`components.${name}`, "not configured (named by --only)", file);
    for (const [name, section] of selected)
      if (!CHECKERS[name])
        section.fail("", `unknown component "${name}" (known: ${Object.keys(CHECKERS).join(", ")})`);
    let built: Promise<RuntimeEnvironment> | undefined;
    const context: RunnerContext = {
      config: offline,
      logger: silentLogger(),
      check: true,
      ...(store.redis ? { redis: store.redis } : {}),
      environment: () => (built ??= buildEnvironment(offline, silentLogger())),
    };
    const lines: string[] = [];
    for (const [name, section] of selected) {
      const result = await (CHECKERS[name] as ComponentRunner)(context, section);
      lines.push(`component ${name}:`, ...(result.targets ?? []).map((t) => `  ${t}`));
    }
    env = built ? await built : await (built = buildEnvironment(offline, silentLogger()));
    const admin = readAdminSection(config.root, only?.length === 1 ? only[0] : undefined);
    const audit = readProcessAudit(config.root);
    io.stdout(`${file}: valid`);
    io.stdout(
      `policies: ${env.registry
        .policies()
        .map((p) => `${p.name} (${p.id})`)
        .join(", ")}; governing ${env.governing.name}`,
    );
    for (const line of lines) io.stdout(line);
    io.stdout(store.line);
    const directory = describeDirectory(config.root);
    if (directory) io.stdout(directory);
    io.stdout(
      admin
        ? `admin API: http://${admin.host.includes(":") ? `[${admin.host}]` : admin.host}:${admin.port}${admin.token ? " (bearer token required)" : ` (bearer token required: generated at first start in ${admin.tokenFile})`}`
        : "admin API: off (no admin section)",
    );
    io.stdout(
      audit
        ? `audit log: ${configPath(config.root, audit.file)} (MUC and catalog decisions, admin changes; HMAC key ${audit.key !== undefined ? "configured" : `in ${auditKeyFile(audit, config.root)}`}, anchor every ${audit.anchorEvery} records)`
        : "audit log: MUC and catalog decisions and admin changes are not audited (no audit section)",
    );
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("CORDON_")) throw error;
    const line = configErrorLine(error, file);
    const message = (error as Error).message;
    const text = message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
    io.stderr(`${file}${line !== undefined ? `:${line}` : ""}: ${text}`);
    return 2;
  } finally {
    await env?.close().catch(() => undefined);
  }
}

export const checkConfigCommand: Command = {
  name: "check-config",
  summary: "validate a config and the policies/catalogs/labels it references: check-config --config FILE",
  async run(args, io) {
    const { config, only } = parseCheckArgs(args);
    return checkConfig(config, only, io);
  },
};
