// The audit logs of `cordon start` (issue 16 item 9): keyed hash chains (HMAC-SHA256) of
// @cordon/relay's format. The relay keeps its own (components.relay.audit); the top-level `audit:`
// section holds the MUC's and the catalog's enforcement decisions and the admin changes
// (clearance set or removed, policy reload). Without `key`, the key is a file generated at first
// start (0600) — `keyFile`, default STATE_DIR/audit-key —, which `cordon audit verify` reads.
import type { ConfigReader, Logger } from "@cordon/component";
import {
  auditKey,
  FileAuditSink,
  MIN_AUDIT_KEY_LENGTH,
  readAuditSection,
  type AuditEvent,
  type AuditKey,
  type AuditSettings,
  type AuditSink,
} from "@cordon/relay";
import type { MucObserver } from "@cordon/muc";
import type { CatalogAuditEvent } from "@cordon/catalog";
import { AuditKeyError, AuditUnavailableError } from "./ops-errors.js";
import { configPath, ensureSecretFile, readSecretFile, stateDir } from "./state-dir.js";

export const AUDIT_KEY_FILE_NAME = "audit-key";

/** Where the key of an `audit:` section is: its keyFile, else STATE_DIR/audit-key. */
export function auditKeyFile(settings: AuditSettings, root: ConfigReader, env = process.env): string {
  return settings.keyFile !== undefined
    ? configPath(root, settings.keyFile)
    : `${stateDir(root, env)}/${AUDIT_KEY_FILE_NAME}`;
}

/** The key of an `audit:` section: configured, or read from (generated into) its key file. */
export function loadAuditKey(settings: AuditSettings, root: ConfigReader, logger: Logger): AuditKey {
  if (settings.key !== undefined) return auditKey(settings.key);
  const file = auditKeyFile(settings, root);
  const { secret, created } = ensureSecretFile(file);
  if (secret.length < MIN_AUDIT_KEY_LENGTH)
    throw new AuditKeyError(file, `shorter than ${MIN_AUDIT_KEY_LENGTH} characters`);
  logger.info({ keyFile: file }, created ? "audit key generated (mode 0600)" : "audit key read");
  return auditKey(secret);
}

/** Reads an existing key file (the verifying side never creates one). */
export function readAuditKeyFile(file: string): AuditKey {
  const secret = readSecretFile(file);
  if (secret === undefined) throw new AuditKeyError(file, "cannot be read");
  if (secret.length < MIN_AUDIT_KEY_LENGTH)
    throw new AuditKeyError(file, `shorter than ${MIN_AUDIT_KEY_LENGTH} characters`);
  return auditKey(secret);
}

/** Opens a keyed log whose anchors (every N records once written) go to the log as `auditAnchor`. */
export async function openAuditLog(
  settings: AuditSettings,
  root: ConfigReader,
  logger: Logger,
  path: (p: string) => string,
): Promise<FileAuditSink> {
  return (await openKeyedAuditLog(settings, root, logger, path)).sink;
}

/** `openAuditLog`, also returning the file and the key (the admin console browses and verifies it). */
export async function openKeyedAuditLog(
  settings: AuditSettings,
  root: ConfigReader,
  logger: Logger,
  path: (p: string) => string,
): Promise<{ sink: FileAuditSink; file: string; key: AuditKey }> {
  const key = loadAuditKey(settings, root, logger);
  const file = path(settings.file);
  const sink = await FileAuditSink.open(file, {
    key,
    anchorEvery: settings.anchorEvery,
    onAnchor: (a) => logger.info({ auditAnchor: `${a.seq}:${a.hash}`, auditFile: file }, "audit log head"),
  });
  return { sink, file, key };
}

/** The top-level `audit:` section, when there is one. */
export function readProcessAudit(root: ConfigReader, env = process.env): AuditSettings | undefined {
  return root.has("audit") ? readAuditSection(root.section("audit"), env) : undefined;
}

/**
 * A process-wide log shared by the MUC, the catalog and the admin API; its head is logged every
 * minute as well (as the relay does for its own), and at stop.
 */
export function anchorEveryMinute(sink: AuditSink, logger: Logger, file: string, ms = 60_000): () => void {
  let logged = "";
  const log = () => {
    const head = sink.head();
    const text = `${head.seq}:${head.hash}`;
    if (head.seq === 0 || text === logged) return;
    logged = text;
    logger.info({ auditAnchor: text, auditFile: file }, "audit log head");
  };
  const timer = setInterval(log, ms);
  timer.unref();
  return () => {
    clearInterval(timer);
    log();
  };
}

/**
 * Throws AuditUnavailableError once the log has failed: a caller about to do what must be recorded
 * (an admin change) asks first, so nothing is done that the log cannot tell.
 */
export function assertAuditWritable(sink: AuditSink | undefined): void {
  if (sink?.failed) throw new AuditUnavailableError(sink.failed);
}

/** Sinks whose failure was already logged (once each). */
const reported = new WeakSet<AuditSink>();

/**
 * Appends an event. Fail closed (found in review, advrelay: a process log that could not be
 * written — a full disk, a log file swapped for /dev/full — failed silently, and the MUC, the
 * catalog and the admin API went on unaudited): once the log has failed, this throws
 * AuditUnavailableError into the component that decided, before it acts — the MUC delivers and
 * admits nothing, the catalog answers internal-server-error, the admin API 503 — and the failure
 * is logged at once. The records of the one batch being written when the disk fails are lost with it.
 */
export function recordEvent(sink: AuditSink | undefined, event: AuditEvent, logger: Logger): void {
  if (!sink) return;
  assertAuditWritable(sink);
  sink.append(event);
  sink.written().catch((error: unknown) => {
    if (reported.has(sink)) return;
    reported.add(sink);
    logger.error(
      { err: error instanceof Error ? error.message : String(error) },
      "audit log cannot be written: the MUC, the catalog and admin changes refuse everything until restarted",
    );
  });
}

/**
 * Appends an event and waits until it is on disk: an admin change is answered only once the log
 * tells it (a reader of the log right after the answer finds it; a log that cannot be written
 * makes the answer an error).
 */
export async function recordEventWritten(
  sink: AuditSink | undefined,
  event: AuditEvent,
  logger: Logger,
): Promise<void> {
  if (!sink) return;
  recordEvent(sink, event, logger);
  await sink.written();
}

/** The MUC observer with its decisions also written to the audit log. */
export function withMucAudit(
  observer: MucObserver | undefined,
  sink: AuditSink | undefined,
  logger: Logger,
): MucObserver | undefined {
  if (!sink) return observer;
  return {
    decision: (kind, granted, reason) => observer?.decision(kind, granted, reason),
    fanout: (delivered, withheld) => observer?.fanout(delivered, withheld),
    ...(observer?.skipped ? { skipped: observer.skipped.bind(observer) } : {}),
    audit: (e) =>
      recordEvent(
        sink,
        {
          component: "muc",
          action: e.action,
          decision: e.granted ? "grant" : "deny",
          reason: e.reason,
          actor: e.actor,
          target: e.room,
          ...(e.marking !== undefined ? { marking: e.marking } : {}),
          ...(e.delivered !== undefined ? { delivered: e.delivered } : {}),
          ...(e.withheld !== undefined ? { withheld: e.withheld } : {}),
        },
        logger,
      ),
  };
}

/** The catalog's decisions as audit events. */
export function catalogAudit(
  sink: AuditSink | undefined,
  logger: Logger,
): ((e: CatalogAuditEvent) => void) | undefined {
  if (!sink) return undefined;
  return (e) =>
    recordEvent(
      sink,
      {
        component: "catalog",
        action: "catalog",
        decision: e.granted ? "grant" : "deny",
        reason: e.reason,
        actor: e.actor,
        ...(e.target !== undefined ? { target: e.target } : {}),
        ...(e.items !== undefined ? { items: e.items } : {}),
        ...(e.remote ? { remote: true } : {}),
      },
      logger,
    );
}
