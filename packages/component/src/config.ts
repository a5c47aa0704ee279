// The one configuration file shared by all Cordon components (YAML or JSON), validated at start-up.
// The runtime reads the common parts (log, server, each component's connection); each component
// package reads the rest of its own section with the same ConfigReader.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./errors.js";
import { ConfigReader } from "./config-reader.js";
import { DEFAULT_MAX_STANZA_BYTES, MIN_MAX_STANZA_BYTES } from "./stanza-limits.js";

export interface LogConfig {
  level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  redactJids: boolean;
}

export interface ConnectionConfig {
  /** `xmpp://host:port` of the server's component listener. */
  service: string;
  domain: string;
  secret: string;
  /** The largest stanza the component writes to this server (stanza-limits.ts). */
  maxStanzaBytes: number;
}

export interface CordonConfig {
  file?: string;
  log: LogConfig;
  /** Component sections by name (`muc`, `catalog`, `relay`, `example`...), validated by their owners. */
  components: Map<string, ConfigReader>;
  root: ConfigReader;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Reads and validates a config file; throws ConfigError naming the file and key. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): CordonConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      "(file)",
      `cannot read config (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      file,
    );
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file?: string, env: NodeJS.ProcessEnv = process.env): CordonConfig {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    const where = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new ConfigError(
      where ? `line ${where.line}, column ${where.col}` : "(syntax)",
      `not valid YAML/JSON: ${(error as Error).message.split("\n")[0]}`,
      file,
    );
  }
  const root = ConfigReader.root(value, file);
  const log = root.optionalSection("log");
  const logConfig: LogConfig = {
    level: log ? log.only(["level", "redactJids"]).oneOf("level", LOG_LEVELS, envLevel(env)) : envLevel(env),
    redactJids: log ? log.boolean("redactJids", false) : false,
  };
  const components = new Map<string, ConfigReader>();
  if (!root.has("components"))
    root.fail("components", "required: expected a mapping of component sections (e.g. muc, catalog, relay)");
  const section = root.section("components");
  for (const [name, reader] of section.sections()) components.set(name, reader);
  if (components.size === 0) root.fail("components", "expected at least one component");
  return { ...(file ? { file } : {}), log: logConfig, components, root };
}

function envLevel(env: NodeJS.ProcessEnv): LogConfig["level"] {
  const level = env.LOG_LEVEL;
  return (LOG_LEVELS as readonly string[]).includes(level ?? "") ? (level as LogConfig["level"]) : "info";
}

/**
 * `server.maxStanzaBytes`: the largest stanza a component writes to that server, in UTF-8 bytes;
 * every input bound derives from it (stanza-limits.ts). Keep it below the server's own limit
 * (Prosody's mod_component 512 KiB, ejabberd's `max_stanza_size`). Read from `own`, else from
 * `defaults` (the top-level `server`), else 256 KiB.
 */
export function readMaxStanzaBytes(
  own: ConfigReader | undefined,
  defaults: ConfigReader | undefined,
): number {
  const range = { min: MIN_MAX_STANZA_BYTES, max: 64 * 1024 * 1024 };
  if (own?.has("maxStanzaBytes")) return own.integer("maxStanzaBytes", undefined, range);
  if (defaults?.has("maxStanzaBytes")) return defaults.integer("maxStanzaBytes", undefined, range);
  return DEFAULT_MAX_STANZA_BYTES;
}

/**
 * The connection settings of one component section: `domain`, `secret`, and
 * `server: { host, port, maxStanzaBytes }` (defaults from the top-level `server`).
 */
export function readConnection(
  config: CordonConfig,
  section: ConfigReader,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionConfig {
  const defaults = config.root.optionalSection("server");
  const own = section.optionalSection("server");
  const host = own?.optionalString("host") ?? defaults?.optionalString("host") ?? "127.0.0.1";
  const port = own?.has("port") ? own.port("port") : defaults?.has("port") ? defaults.port("port") : 5347;
  const domain = section.string("domain");
  if (!/^[a-z0-9.-]+$/i.test(domain) || domain.startsWith(".") || domain.endsWith("."))
    section.fail("domain", `expected a domain name, got "${domain}"`);
  return {
    service: `xmpp://${host}:${port}`,
    domain: domain.toLowerCase(),
    secret: section.secret("secret", env),
    maxStanzaBytes: readMaxStanzaBytes(own, defaults),
  };
}
