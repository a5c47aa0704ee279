// The audit trail: one JSON line per relay decision, each record chained to the previous one by a
// SHA-256 hash (FIPS 180-4) over its canonical JSON, so an edited, inserted or deleted record
// breaks the chain at that point. Records never hold message content: only the decision, the
// reason, the stanza kind and type, the domains, the label's marking and policy.
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { AuditChainBrokenError, AuditWriteError } from "./errors.js";

export const GENESIS = "0".repeat(64);

export type AuditOutcome = "pass" | "refuse" | "drop";

/** What a caller records for one decision. */
export interface AuditEntry {
  peering: string;
  direction: string;
  decision: AuditOutcome;
  reason: string;
  stanza: string;
  type?: string;
  /** The stanza's id as `auditId` digests it (the id itself is sender-chosen text). */
  id?: string;
  fromDomain?: string;
  toDomain?: string;
  /** Display marking of the label in the receiving side's policy. */
  marking?: string;
  policy?: string;
  labelSource?: "stanza" | "default";
  /** What folding removed (namespaces or part names). */
  stripped?: string[];
  /** Extra detail for the reason (a namespace, a transfer kind, a list number): never content. */
  detail?: string;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  ts: string;
  prev: string;
  hash: string;
}

/** JSON with object keys sorted at every level, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/**
 * A stanza id as the audit records it: the first 16 hex digits of its SHA-256. Ids are chosen by
 * the sender and may hold any text (a body, at any length); the digest still correlates a record
 * with a server's logs (hash the id found there) without holding what it says.
 */
export function auditId(id: string): string {
  return createHash("sha256").update(id).digest("hex").slice(0, 16);
}

export function recordHash(record: Omit<AuditRecord, "hash">): string {
  return createHash("sha256").update(canonicalJson(record)).digest("hex");
}

export type VerifyResult =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; line: number; seq: number | undefined; problem: string };

/** A record's place in the chain, noted outside the log (a log server, a ticket): truncation below it shows. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/** Reads `SEQ:HASH` (as the relay logs it and `cordon audit verify --anchor` takes it). */
export function parseAuditAnchor(text: string): AuditAnchor | undefined {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  return m ? { seq: Number(m[1]), hash: m[2]! } : undefined;
}

/**
 * Verifies a whole log's chain; names the first bad record (1-based line number). With an anchor,
 * the log must also still hold that record with that hash: records deleted from the end of a log
 * leave a valid chain, and only a hash kept elsewhere shows them missing.
 */
export function verifyAuditText(text: string, anchor?: AuditAnchor): VerifyResult {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  else if (lines.length > 0)
    return fail(
      lines.length,
      undefined,
      "the last record is incomplete (no final newline)",
      lines.length - 1,
    );
  let prev = GENESIS;
  let expectedSeq = 1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      return fail(i + 1, undefined, "not valid JSON", i);
    }
    if (typeof record !== "object" || record === null || typeof record.hash !== "string")
      return fail(i + 1, undefined, "not an audit record", i);
    const seq = typeof record.seq === "number" ? record.seq : undefined;
    if (seq !== expectedSeq)
      return fail(
        i + 1,
        seq,
        `sequence number ${String(record.seq)} where ${expectedSeq} was expected (a record was deleted or inserted)`,
        i,
      );
    if (record.prev !== prev)
      return fail(
        i + 1,
        seq,
        "its prev hash is not the previous record's hash (a record was deleted, inserted or reordered)",
        i,
      );
    const { hash, ...rest } = record;
    if (recordHash(rest) !== hash)
      return fail(i + 1, seq, "its hash does not match its content (the record was edited)", i);
    if (anchor && seq === anchor.seq && hash !== anchor.hash)
      return fail(
        i + 1,
        seq,
        `record ${seq} is not the anchored one (hash ${hash.slice(0, 12)}…, anchored ${anchor.hash.slice(0, 12)}…)`,
        i,
      );
    prev = hash;
    expectedSeq++;
  }
  if (anchor && lines.length < anchor.seq)
    return fail(
      lines.length + 1,
      undefined,
      `the log ends at record ${lines.length}, before the anchored record ${anchor.seq}: records were removed from its end`,
      lines.length,
    );
  return { ok: true, records: lines.length, head: prev };

  function fail(line: number, seq: number | undefined, problem: string, good: number): VerifyResult {
    return { ok: false, records: good, line, seq, problem };
  }
}

export function verifyAuditFile(file: string, anchor?: AuditAnchor): VerifyResult {
  return verifyAuditText(readFileSync(file, "utf8"), anchor);
}

export interface AuditSink {
  append(entry: AuditEntry): AuditRecord;
  /**
   * Resolves once every record appended so far is written and synced to storage; rejects once the
   * sink has failed. The relay lets a stanza cross only after its record is written.
   */
  written(): Promise<void>;
  /** The last record appended (its sequence number and hash), to note elsewhere as an anchor. */
  head(): AuditAnchor;
  /** Resolves when every appended record is written. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Set once a write failed: the relay then refuses everything (fail closed). */
  readonly failed: Error | undefined;
}

/** An in-memory sink (tests, benchmarks): records are chained the same way. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  failed: Error | undefined = undefined;
  #prev = GENESIS;
  #seq = 0;
  constructor(private readonly keep = true) {}
  append(entry: AuditEntry): AuditRecord {
    const record = chain(entry, ++this.#seq, this.#prev);
    this.#prev = record.hash;
    if (this.keep) this.records.push(record);
    return record;
  }
  text(): string {
    return this.records.map((r) => `${JSON.stringify(r)}\n`).join("");
  }
  written(): Promise<void> {
    return this.failed ? Promise.reject(this.failed) : Promise.resolve();
  }
  head(): AuditAnchor {
    return { seq: this.#seq, hash: this.#prev };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

interface Waiting {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function waiting(): Waiting {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  promise.catch(() => undefined); // a failure nobody waits for is already in `failed`
  return { promise, resolve, reject };
}

/** Rejects when `work` has not finished within `ms` (a hung disk must not hold stanzas forever). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>(
        (_, fail) =>
          (timer = setTimeout(() => fail(new Error(`no answer from the disk within ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the record with its keys in sorted order, so its JSON is its canonical JSON (values are flat). */
function chainLine(entry: AuditEntry, seq: number, prev: string): { record: AuditRecord; line: string } {
  const base: Record<string, unknown> = { ...entry, seq, ts: new Date().toISOString(), prev };
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(base).sort()) if (base[k] !== undefined) sorted[k] = base[k];
  const json = JSON.stringify(sorted);
  const hash = createHash("sha256").update(json).digest("hex");
  const record = { ...(sorted as unknown as Omit<AuditRecord, "hash">), hash };
  return { record, line: `${json.slice(0, -1)},"hash":"${hash}"}\n` };
}

/** The end of a log, from the start of its last record (records are single lines, well under 1 MiB). */
function lastRecordText(file: string, size: number): string {
  const span = Math.min(size, 1 << 20);
  const buffer = Buffer.alloc(span);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buffer, 0, span, size - span);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString("utf8");
  const lastBreak = text.lastIndexOf("\n", text.length - 2);
  if (lastBreak < 0 && span < size)
    throw new AuditChainBrokenError(file, "the last record is longer than 1 MiB; rotate the file");
  return text.slice(lastBreak + 1);
}

function chain(entry: AuditEntry, seq: number, prev: string): AuditRecord {
  return chainLine(entry, seq, prev).record;
}

export interface FileAuditOptions {
  /** A batch not written and synced within this time fails the sink (default 10 s). */
  writeTimeoutMs?: number;
}

/**
 * Appends chained records to a JSON-lines file. Records are hashed synchronously (the chain order is
 * the decision order) and written in batches (group commit: one write and one fdatasync for every
 * record appended in the same turn of the event loop). An existing file is continued from its last
 * record, which must be intact.
 */
export class FileAuditSink implements AuditSink {
  failed: Error | undefined = undefined;
  #prev = GENESIS;
  #seq = 0;
  #pending: string[] = [];
  #waiting: Waiting | undefined;
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;
  #handle: FileHandle | undefined;
  readonly #writeTimeoutMs: number;

  private constructor(
    readonly file: string,
    options: FileAuditOptions,
  ) {
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
  }

  static async open(file: string, options: FileAuditOptions = {}): Promise<FileAuditSink> {
    const sink = new FileAuditSink(file, options);
    // Only a regular file has a chain to continue (a pipe or a device is written, never read); and
    // only its last record is read, not the whole log.
    const stats = existsSync(file) ? statSync(file) : undefined;
    if (stats?.isFile() && stats.size > 0) {
      const text = lastRecordText(file, stats.size);
      if (!text.endsWith("\n"))
        throw new AuditChainBrokenError(file, "the last record is incomplete; rotate the file");
      const last = text.slice(text.lastIndexOf("\n", text.length - 2) + 1, -1);
      let record: AuditRecord;
      try {
        record = JSON.parse(last) as AuditRecord;
      } catch {
        throw new AuditChainBrokenError(file, "the last record is not JSON; rotate the file");
      }
      const { hash, ...rest } = record;
      if (typeof record.seq !== "number" || recordHash(rest) !== hash)
        throw new AuditChainBrokenError(
          file,
          "the last record's hash does not match; run `cordon audit verify`",
        );
      sink.#prev = hash;
      sink.#seq = record.seq;
    }
    try {
      sink.#handle = await open(file, "a", 0o600);
    } catch (error) {
      throw new AuditWriteError(file, error);
    }
    return sink;
  }

  append(entry: AuditEntry): AuditRecord {
    const { record, line } = chainLine(entry, ++this.#seq, this.#prev);
    this.#prev = record.hash;
    this.#pending.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#drain(); // #drain fails the log itself on error; waiters are settled there
      });
    }
    return record;
  }

  head(): AuditAnchor {
    return { seq: this.#seq, hash: this.#prev };
  }

  written(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.#pending.length === 0) {
      return this.#writing.then(() => {
        if (this.failed) throw this.failed;
      });
    }
    this.#waiting ??= waiting();
    return this.#waiting.promise;
  }

  #drain(): Promise<void> {
    if (this.#pending.length === 0) return this.#writing;
    const batch = this.#pending.join("");
    const done = this.#waiting;
    this.#pending = [];
    this.#waiting = undefined;
    this.#writing = this.#writing.then(async () => {
      const handle = this.#handle;
      if (this.failed || !handle) {
        this.failed ??= new AuditWriteError(this.file, new Error("the audit log is closed"));
        done?.reject(this.failed);
        return;
      }
      try {
        await within(
          this.#writeTimeoutMs,
          (async () => {
            await handle.appendFile(batch, "utf8");
            await handle.datasync();
          })(),
        );
        done?.resolve();
      } catch (error) {
        this.failed = new AuditWriteError(this.file, error);
        done?.reject(this.failed);
      }
    });
    return this.#writing;
  }

  async flush(): Promise<void> {
    await this.#drain();
    if (this.failed) throw this.failed;
  }

  async close(): Promise<void> {
    await this.#drain();
    await this.#handle?.close();
    this.#handle = undefined;
  }
}
