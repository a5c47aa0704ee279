// Structured logging with pino. Message bodies are never logged at info; JIDs can be redacted
// (local part replaced by a short hash, domain kept) for deployments where logs leave the enclave.
import { createHash } from "node:crypto";
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Replace the local part of JIDs by a hash in log fields produced through `jidForLog`. */
  redactJids?: boolean;
  destination?: DestinationStream;
}

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

export function createLogger(options: LoggerOptions = {}): Logger {
  const requested = options.level ?? process.env.LOG_LEVEL ?? "info";
  const level = LEVELS.has(requested) ? requested : "info";
  const logger = pino(
    { level, ...(options.name ? { name: options.name } : {}), base: { pid: process.pid } },
    options.destination ?? pino.destination(2),
  );
  redactionByLogger.set(logger, options.redactJids === true);
  return logger;
}

const redactionByLogger = new WeakMap<Logger, boolean>();

/** The JID as it may appear in logs from this logger (redacted when configured). */
export function jidForLog(logger: Logger, jid: string | undefined): string | undefined {
  if (jid === undefined || !redactionByLogger.get(logger)) return jid;
  return redactJid(jid);
}

export function redactJid(jid: string): string {
  const at = jid.indexOf("@");
  const slash = jid.indexOf("/");
  const domainEnd = slash >= 0 ? slash : jid.length;
  const domain = jid.slice(at + 1, domainEnd);
  if (at < 0) return domain;
  const digest = createHash("sha256").update(jid.slice(0, domainEnd)).digest("hex").slice(0, 10);
  return `~${digest}@${domain}`;
}

/** A logger that drops everything (tests and library defaults). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** `Name: message` of a thrown value, for logs (never a stanza's content). */
export function errorSummary(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
