// The audit trail: one JSON line per decision, each record chained to the previous one by an
// HMAC-SHA256 (RFC 2104, FIPS 198-1) under a secret key over its canonical JSON, so an edited,
// inserted or deleted record breaks the chain at that point — and one who can write the file but
// does not hold the key cannot re-chain what they changed (issue 16 item 9: an unkeyed SHA-256
// chain was rewritten pass→refuse and re-chained). Every line must be exactly the canonical form
// of its record (sorted keys, no spaces, no duplicate keys, `hash` last): what verify reads is what
// grep reads. Records never hold message content: only the decision, the reason, the stanza kind
// and type, the domains, the label's marking and policy.
import { createHash, createHmac, hash as oneShotHash, randomBytes, timingSafeEqual } from "node:crypto";
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

/**
 * A decision of another component (the MUC, the catalog) or an administrative change, in the same
 * chain format (issue 16 item 9). Never content: JIDs of the actor and of what it acted on (bare),
 * the label's marking as the policy renders it, counts.
 */
export interface AuditEvent {
  component: "muc" | "catalog" | "admin";
  /** What was decided or done: join, groupchat, catalog, clearance-set, clearance-removed, policy-reload. */
  action: string;
  decision: "grant" | "deny" | "change";
  reason: string;
  /** Who asked (a bare JID; "admin-api" or "sighup" for administrative changes). */
  actor?: string;
  /** What it was about: a room, a catalog target, the user whose clearance changed. */
  target?: string;
  marking?: string;
  policy?: string;
  /** A groupchat message: copies sent and occupants withheld it. */
  delivered?: number;
  withheld?: number;
  /** A catalog answer: how many items it offered, and whether the requester was judged as a peer. */
  items?: number;
  remote?: boolean;
  detail?: string;
}

/** What the chain adds to each record. */
export interface AuditChainFields {
  seq: number;
  ts: string;
  /** The key's id (`AuditKey.id`): which key the record's HMAC is under. */
  kid: string;
  prev: string;
  /** HMAC-SHA256 of the record's canonical JSON without `hash`, under the audit key (hex). */
  hash: string;
}

export type AuditRecord = (AuditEntry | AuditEvent) & AuditChainFields;

/** The chain's secret key and its public id (the first 16 hex digits of the key's SHA-256). */
export interface AuditKey {
  readonly secret: Uint8Array;
  readonly id: string;
}

/** The shortest key accepted (characters of a key file or setting; a generated one has 64). */
export const MIN_AUDIT_KEY_LENGTH = 32;

/** A key from its text (a key file's content, a setting) or bytes: the HMAC key is those bytes. */
export function auditKey(secret: string | Uint8Array): AuditKey {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  return { secret: bytes, id: createHash("sha256").update(bytes).digest("hex").slice(0, 16) };
}

/** A fresh random key (tests, in-memory sinks). */
export function randomAuditKey(): AuditKey {
  return auditKey(randomBytes(32).toString("hex"));
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
  return oneShotHash("sha256", id, "hex").slice(0, 16);
}

export function recordHash(record: Omit<AuditChainFields, "hash"> & object, key: AuditKey): string {
  return createHmac("sha256", key.secret).update(canonicalJson(record)).digest("hex");
}

/** The one line a record is written as: its canonical JSON with `hash` last. */
export function canonicalLine(record: AuditRecord): string {
  const { hash, ...rest } = record;
  return `${canonicalJson(rest).slice(0, -1)},"hash":${JSON.stringify(hash)}}`;
}

/**
 * The first key that occurs twice in one object of a JSON text (at any depth), or undefined.
 * JSON.parse keeps the last of two equal keys while grep sees the first: a record is read one way only.
 */
export function duplicateJsonKey(text: string): string | undefined {
  const seen: Set<string>[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "{") {
      seen.push(new Set());
      i++;
    } else if (c === "}") {
      seen.pop();
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const token = text.slice(i, j + 1);
      let k = j + 1;
      while (k < text.length && /\s/u.test(text[k]!)) k++;
      const keys = seen[seen.length - 1];
      if (text[k] === ":" && keys) {
        let name: string;
        try {
          name = JSON.parse(token) as string;
        } catch {
          return undefined; // not JSON: JSON.parse reports it
        }
        if (keys.has(name)) return name;
        keys.add(name);
      }
      i = j + 1;
    } else i++;
  }
  return undefined;
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
 * Verifies a whole log's chain under `key`; names the first bad record (1-based line number). Each
 * line must be exactly its record's canonical form (no duplicate keys, no other spacing or order),
 * under this key's id, with an HMAC that matches. With an anchor, the log must also still hold
 * that record with that hash: records deleted from the end of a log leave a valid chain, and only a
 * hash kept elsewhere (the anchors the writer logs every N records and every minute) shows them missing.
 */
export function verifyAuditText(text: string, key: AuditKey, anchor?: AuditAnchor): VerifyResult {
  const verifier = new AuditChainVerifier(key, anchor);
  let start = 0;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) break;
    const failed = verifier.line(text.slice(start, nl));
    if (failed) return failed;
    start = nl + 1;
  }
  return verifier.end(start < text.length);
}

/**
 * The chain check of `verifyAuditText`, one line at a time, so a log of any size is verified in
 * bounded memory (`verifyAuditFileChunked`, the admin console's verify): the same checks in the
 * same order, the same problems named. `line` returns the failure at the first bad record (and the
 * verifier is then done); `end` after the last complete line.
 */
export class AuditChainVerifier {
  #prev = GENESIS;
  #expectedSeq = 1;
  #lines = 0;
  #failed: VerifyResult | undefined;
  constructor(
    private readonly key: AuditKey,
    private readonly anchor?: AuditAnchor,
  ) {}

  /** Records verified so far. */
  get records(): number {
    return this.#lines;
  }

  /** Checks the next line (without its newline); the failure, or undefined when it verifies. */
  line(line: string): VerifyResult | undefined {
    if (this.#failed) return this.#failed;
    const i = this.#lines;
    const key = this.key;
    const anchor = this.anchor;
    const fail = (seq: number | undefined, problem: string) =>
      (this.#failed = { ok: false, records: i, line: i + 1, seq, problem });
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      return fail(undefined, "not valid JSON");
    }
    if (
      typeof record !== "object" ||
      record === null ||
      Array.isArray(record) ||
      typeof record.hash !== "string"
    )
      return fail(undefined, "not an audit record");
    const seq = typeof record.seq === "number" ? record.seq : undefined;
    if (canonicalLine(record) !== line) {
      // A duplicate key is never canonical (JSON.parse keeps one of the two): name it when it is one.
      const duplicate = duplicateJsonKey(line);
      return fail(
        seq,
        duplicate !== undefined
          ? `the key "${duplicate.slice(0, 40)}" occurs twice (a record must read one way only)`
          : "not in canonical form (keys sorted, no spaces, hash last, as the writer writes it): the record was edited",
      );
    }
    if (seq !== this.#expectedSeq)
      return fail(
        seq,
        `sequence number ${String(record.seq).slice(0, 20)} where ${this.#expectedSeq} was expected (a record was deleted or inserted)`,
      );
    if (record.kid !== key.id)
      return fail(
        seq,
        typeof record.kid === "string"
          ? `written under another key (id ${record.kid.slice(0, 16)}, this key is ${key.id})`
          : "the record has no key id (written without a key)",
      );
    if (record.prev !== this.#prev)
      return fail(
        seq,
        "its prev hash is not the previous record's hash (a record was deleted, inserted or reordered)",
      );
    const { hash, ...rest } = record;
    if (!sameHex(recordHash(rest, key), hash))
      return fail(
        seq,
        "its HMAC does not match its content (the record was edited, or re-chained without the key)",
      );
    if (anchor && seq === anchor.seq && hash !== anchor.hash)
      return fail(
        seq,
        `record ${seq} is not the anchored one (hash ${hash.slice(0, 12)}…, anchored ${anchor.hash.slice(0, 12)}…)`,
      );
    this.#prev = hash;
    this.#expectedSeq++;
    this.#lines++;
    return undefined;
  }

  /** After the last line: `incompleteTail` when text followed the last newline (a record cut short). */
  end(incompleteTail = false): VerifyResult {
    if (this.#failed) return this.#failed;
    const n = this.#lines;
    if (incompleteTail)
      return {
        ok: false,
        records: n,
        line: n + 1,
        seq: undefined,
        problem: "the last record is incomplete (no final newline)",
      };
    if (this.anchor && n < this.anchor.seq)
      return {
        ok: false,
        records: n,
        line: n + 1,
        seq: undefined,
        problem: `the log ends at record ${n}, before the anchored record ${this.anchor.seq}: records were removed from its end`,
      };
    return { ok: true, records: n, head: this.#prev };
  }
}

/** The longest record line `verifyAuditFileChunked` reads (the writer's records are far shorter). */
export const MAX_AUDIT_LINE_BYTES = 1 << 20;

/**
 * `verifyAuditText` over a file read in chunks of `chunkBytes` (default 1 MiB): memory bounded by
 * the chunk and the longest line (a line over MAX_AUDIT_LINE_BYTES is a break: no writer makes
 * one). Reads the file as it is when called, up to its size then (records appended meanwhile are
 * for the next verify). Also returns the byte offsets where the line named in a failure starts
 * and where the next one starts (`lineEnd`, when the line is complete).
 */
export async function verifyAuditFileChunked(
  file: string,
  key: AuditKey,
  anchor?: AuditAnchor,
  chunkBytes = 1 << 20,
): Promise<VerifyResult & { offset?: number; lineEnd?: number; bytes: number }> {
  const handle = await open(file, "r");
  try {
    const size = (await handle.stat()).size;
    const verifier = new AuditChainVerifier(key, anchor);
    const buffer = Buffer.alloc(Math.max(1024, chunkBytes));
    let carry: Buffer = Buffer.alloc(0);
    /** File offset of the first byte of `carry`. */
    let carryAt = 0;
    let position = 0;
    while (position < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data =
        carry.length > 0
          ? Buffer.concat([carry, buffer.subarray(0, bytesRead)])
          : buffer.subarray(0, bytesRead);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        const failed = verifier.line(data.toString("utf8", start, nl));
        if (failed) return { ...failed, offset: carryAt + start, lineEnd: carryAt + nl + 1, bytes: size };
        start = nl + 1;
      }
      carryAt += start;
      carry = Buffer.from(data.subarray(start));
      if (carry.length > MAX_AUDIT_LINE_BYTES)
        return {
          ok: false,
          records: verifier.records,
          line: verifier.records + 1,
          seq: undefined,
          problem: `a line longer than ${MAX_AUDIT_LINE_BYTES} bytes (no audit record is)`,
          offset: carryAt,
          bytes: size,
        };
    }
    const result = verifier.end(carry.length > 0);
    return result.ok ? { ...result, bytes: size } : { ...result, offset: carryAt, bytes: size };
  } finally {
    await handle.close();
  }
}

/** Constant-time comparison of two hex digests. */
function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

export function verifyAuditFile(file: string, key: AuditKey, anchor?: AuditAnchor): VerifyResult {
  return verifyAuditText(readFileSync(file, "utf8"), key, anchor);
}

export interface AuditSink {
  append(entry: AuditEntry | AuditEvent): AuditRecord;
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

/** An in-memory sink (tests, benchmarks): records are chained the same way (under `key`). */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  failed: Error | undefined = undefined;
  #prev = GENESIS;
  #seq = 0;
  constructor(
    private readonly keep = true,
    readonly key: AuditKey = randomAuditKey(),
  ) {}
  append(entry: AuditEntry | AuditEvent): AuditRecord {
    // The number is taken once the record is made: an entry that cannot be written leaves no gap.
    const record = chain(entry, this.#seq + 1, this.#prev, this.key);
    this.#seq++;
    this.#prev = record.hash;
    if (this.keep) this.records.push(record);
    return record;
  }
  text(): string {
    return this.records.map((r) => `${canonicalLine(r)}\n`).join("");
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

/** Every member an AuditEntry, an AuditEvent or the chain defines, sorted (as Object.keys(...).sort() sorts). */
const RECORD_KEYS: readonly string[] = [
  ...new Set([
    ...["peering", "direction", "decision", "reason", "stanza", "type", "id", "fromDomain", "toDomain"],
    ...["marking", "policy", "labelSource", "stripped", "detail"],
    ...["component", "action", "actor", "target", "delivered", "withheld", "items", "remote"],
    ...["seq", "ts", "kid", "prev"],
  ]),
].sort();
/** Each of RECORD_KEYS as its JSON member name (`"key":`), written once. */
const RECORD_KEY_JSON: readonly string[] = RECORD_KEYS.map((k) => `${JSON.stringify(k)}:`);
/** Where each of RECORD_KEYS is read from: 0 the entry, else the chain's field (1 seq, 2 ts, 3 kid, 4 prev). */
const RECORD_KEY_SOURCE: readonly number[] = RECORD_KEYS.map(
  (k) => ["seq", "ts", "kid", "prev"].indexOf(k) + 1,
);
const isEnumerable = (object: object, key: string): boolean =>
  Object.prototype.propertyIsEnumerable.call(object, key);

/** `new Date().toISOString()`, remembered for the millisecond it names (records come thousands a second). */
let tsAt = Number.NaN;
let tsText = "";
function timestamp(): string {
  const now = Date.now();
  if (now !== tsAt) {
    tsText = new Date(now).toISOString();
    tsAt = now;
  }
  return tsText;
}

/** Each of RECORD_KEYS by its name: its place in the sorted order. */
const RECORD_KEY_RANK: ReadonlyMap<string, number> = new Map(RECORD_KEYS.map((k, i) => [k, i]));
/** The entry's values by RECORD_KEYS' place, for one chainLine at a time (emptied as it is read). */
const slots: unknown[] = new Array<unknown>(RECORD_KEYS.length).fill(undefined);

/** What JSON.stringify escapes in a string (RFC 8259 §7; lone surrogates as \u escapes): any surrogate here. */
// eslint-disable-next-line no-control-regex
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * JSON.stringify of a record's value. A string with nothing JSON.stringify escapes (no quote,
 * backslash, control character or surrogate) is itself between quotes; anything else is
 * JSON.stringify's.
 */
function jsonValue(v: unknown): string | undefined {
  if (typeof v === "string" && !JSON_ESCAPED.test(v)) return `"${v}"`;
  return JSON.stringify(v) as string | undefined;
}

/** Builds the record and its canonical line (keys sorted, `hash` last): the line verify expects. */
function chainLine(
  entry: AuditEntry | AuditEvent,
  seq: number,
  prev: string,
  key: AuditKey,
): { record: AuditRecord; line: string } {
  try {
    return chainLineFromSlots(entry, seq, prev, key);
  } catch (error) {
    // A member read or written that throws (a BigInt or a cycle JSON.stringify refuses, a throwing
    // toJSON or getter) stops the line half way: the entry's members still in `slots` must not be
    // written into the next entry's record (review adv13: a MUC event's record sealed with a
    // refusal's peering, domains and marking).
    slots.fill(undefined);
    throw error;
  }
}

/** chainLine through `slots` (emptied as they are written; by chainLine when it throws). */
function chainLineFromSlots(
  entry: AuditEntry | AuditEvent,
  seq: number,
  prev: string,
  key: AuditKey,
): { record: AuditRecord; line: string } {
  const fields = entry as unknown as Record<string, unknown>;
  const ts = timestamp();
  // The entry's own enumerable members (what the spread `{ ...entry, ...chain }` reads), each put
  // in its sorted place; the chain's fields take theirs (the spread's later members win).
  const own = Object.keys(fields);
  for (let j = 0; j < own.length; j++) {
    const k = own[j]!;
    const rank = RECORD_KEY_RANK.get(k);
    if (rank === undefined) {
      // A member of its own (no entry the relay makes has one): every member sorted here.
      slots.fill(undefined);
      return chainLineSorted(fields, { seq, ts, kid: key.id, prev }, key);
    }
    if (RECORD_KEY_SOURCE[rank] === 0) slots[rank] = fields[k];
  }
  // Inherited enumerable members of a name RECORD_KEYS does not hold took the sorted path before
  // (for…in saw them) and are left out there as here: the line is the same either way.
  const record: Record<string, unknown> = {};
  // Its canonical JSON: keys sorted (RECORD_KEYS' precomputed order), values flat (strings,
  // numbers, lists of strings), written member by member — what JSON.stringify of the sorted
  // object writes, without building that object first.
  let json = "{";
  for (let i = 0; i < RECORD_KEYS.length; i++) {
    const source = RECORD_KEY_SOURCE[i]!;
    let v: unknown;
    if (source === 0) {
      v = slots[i];
      if (v === undefined) continue; // left out, as JSON.stringify leaves an undefined member out
      slots[i] = undefined;
    } else v = source === 1 ? seq : source === 2 ? ts : source === 3 ? key.id : prev;
    const value = jsonValue(v);
    if (value === undefined) continue; // as JSON.stringify leaves such a member out
    json += json.length > 1 ? `,${RECORD_KEY_JSON[i]!}${value}` : `${RECORD_KEY_JSON[i]!}${value}`;
    record[RECORD_KEYS[i]!] = v;
  }
  json += "}";
  return sealed(record, json, key);
}

/** chainLine for an entry with a member RECORD_KEYS does not name: all members sorted here. */
function chainLineSorted(
  fields: Record<string, unknown>,
  chainFields: Record<string, unknown>,
  key: AuditKey,
): { record: AuditRecord; line: string } {
  const keys = [...new Set([...Object.keys(fields), ...Object.keys(chainFields)])].sort();
  const record: Record<string, unknown> = {};
  let json = "{";
  for (const k of keys) {
    const v = Object.hasOwn(chainFields, k)
      ? chainFields[k]
      : isEnumerable(fields, k)
        ? fields[k]
        : undefined;
    if (v === undefined) continue;
    const value = JSON.stringify(v) as string | undefined;
    if (value === undefined) continue;
    json += `${json.length > 1 ? "," : ""}${JSON.stringify(k)}:${value}`;
    record[k] = v;
  }
  json += "}";
  return sealed(record, json, key);
}

/**
 * HMAC-SHA256 (RFC 2104 §2) of `text` (UTF-8) under `key`, hex: what `createHmac("sha256",
 * key.secret).update(text).digest("hex")` returns, computed as its definition reads —
 * SHA-256((K ⊕ opad) ‖ SHA-256((K ⊕ ipad) ‖ text)) — with the two padded key blocks made once per
 * key and two one-shot `crypto.hash` calls into buffers kept for it: `createHmac` makes a keyed
 * object per record (issue 19 goal 4: about a third of the record's cost). The writer's records
 * only; `verify` recomputes each with `createHmac` (`recordHash`), so every log verified checks
 * this against Node's own HMAC.
 */
export function keyedHash(text: string, key: AuditKey): string {
  let pads = HMAC_PADS.get(key);
  if (pads === undefined) {
    pads = hmacPads(key.secret);
    HMAC_PADS.set(key, pads);
  }
  // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units). The kept
  // buffer grows up to MAX_KEPT_HMAC_BYTES; a longer text (no record is) takes a buffer of its own.
  let inner = pads.inner;
  const needed = 64 + 3 * text.length;
  if (needed > inner.length) {
    inner = Buffer.alloc(needed);
    pads.inner.copy(inner, 0, 0, 64);
    if (needed <= MAX_KEPT_HMAC_BYTES) pads.inner = inner;
  }
  const n = inner.write(text, 64, "utf8");
  const innerHash = oneShotHash("sha256", inner.subarray(0, 64 + n), "buffer") as unknown as Buffer;
  innerHash.copy(pads.outer, 64);
  return oneShotHash("sha256", pads.outer, "hex");
}

interface HmacPads {
  /** K ⊕ ipad, then room for the text. */
  inner: Buffer;
  /** K ⊕ opad, then the inner hash. */
  readonly outer: Buffer;
}

const HMAC_PADS = new WeakMap<AuditKey, HmacPads>();
/** The largest buffer kept per key for `keyedHash` (records are well under 1 KiB). */
const MAX_KEPT_HMAC_BYTES = 64 * 1024;

function hmacPads(secret: Uint8Array): HmacPads {
  // A key longer than the block is hashed first; a shorter one is padded with zeros (RFC 2104 §2).
  const k = secret.length > 64 ? createHash("sha256").update(secret).digest() : secret;
  const inner = Buffer.alloc(64 + 1024, 0);
  const outer = Buffer.alloc(64 + 32, 0);
  for (let i = 0; i < 64; i++) {
    const b = i < k.length ? k[i]! : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  return { inner, outer };
}

/** The record's HMAC over its canonical JSON, and its line with `hash` last. */
function sealed(
  record: Record<string, unknown>,
  json: string,
  key: AuditKey,
): { record: AuditRecord; line: string } {
  const hash = keyedHash(json, key);
  record.hash = hash;
  return { record: record as unknown as AuditRecord, line: `${json.slice(0, -1)},"hash":"${hash}"}\n` };
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

function chain(entry: AuditEntry | AuditEvent, seq: number, prev: string, key: AuditKey): AuditRecord {
  return chainLine(entry, seq, prev, key).record;
}

/** Records between two anchors by default (besides the writer's once-a-minute anchor). */
export const DEFAULT_ANCHOR_EVERY = 100;

export interface FileAuditOptions {
  /** The chain's key (HMAC-SHA256). */
  key: AuditKey;
  /** A batch not written and synced within this time fails the sink (default 10 s). */
  writeTimeoutMs?: number;
  /**
   * Called with the head once written whenever the chain passes a multiple of `anchorEvery`
   * records (default 100): the caller logs it, so at most that many records at the end of the log
   * can be removed without an anchor kept elsewhere showing it.
   */
  onAnchor?: (anchor: AuditAnchor) => void;
  anchorEvery?: number;
  /**
   * Bytes of records appended but not yet on disk, at most (default 16 MiB): a disk slower than the
   * traffic (refusals are recorded without waiting) would otherwise hold them all in memory. Past
   * it the log fails — nothing more crosses (fail closed) — rather than drop a record.
   */
  maxBacklogBytes?: number;
}

/** The default bound of records waiting to be written. */
export const DEFAULT_AUDIT_BACKLOG_BYTES = 16 * 1024 * 1024;

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
  /** Sequence number and hash of the last record appended to #pending, and of the last written. */
  #pendingHead: AuditAnchor | undefined;
  #writtenSeq = 0;
  readonly #writeTimeoutMs: number;
  readonly #maxBacklogBytes: number;
  /** Bytes appended and not yet written (pending or in a batch being written). */
  #backlogBytes = 0;
  readonly #key: AuditKey;
  readonly #anchorEvery: number;
  readonly #onAnchor: ((anchor: AuditAnchor) => void) | undefined;

  private constructor(
    readonly file: string,
    options: FileAuditOptions,
  ) {
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.#maxBacklogBytes = options.maxBacklogBytes ?? DEFAULT_AUDIT_BACKLOG_BYTES;
    this.#key = options.key;
    this.#anchorEvery = Math.max(1, Math.floor(options.anchorEvery ?? DEFAULT_ANCHOR_EVERY));
    this.#onAnchor = options.onAnchor;
  }

  static async open(file: string, options: FileAuditOptions): Promise<FileAuditSink> {
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
      if (typeof record.kid !== "string")
        throw new AuditChainBrokenError(
          file,
          "the log was written without a key (an unkeyed chain); rotate the file",
        );
      if (record.kid !== options.key.id)
        throw new AuditChainBrokenError(
          file,
          `the log is under another key (id ${String(record.kid).slice(0, 16)}, configured ${options.key.id}); rotate the file or configure its key`,
        );
      if (typeof record.seq !== "number" || recordHash(rest, options.key) !== hash)
        throw new AuditChainBrokenError(
          file,
          "the last record's HMAC does not match; run `cordon audit verify`",
        );
      sink.#prev = hash;
      sink.#seq = record.seq;
      sink.#writtenSeq = record.seq;
    }
    try {
      sink.#handle = await open(file, "a", 0o600);
    } catch (error) {
      throw new AuditWriteError(file, error);
    }
    return sink;
  }

  append(entry: AuditEntry | AuditEvent): AuditRecord {
    // The number is taken once the line is made: an entry that cannot be written leaves no gap
    // (a gap reads as a deleted record to `cordon audit verify`).
    const { record, line } = chainLine(entry, this.#seq + 1, this.#prev, this.#key);
    this.#seq++;
    const bytes = Buffer.byteLength(line, "utf8");
    if (!this.failed && this.#backlogBytes + bytes > this.#maxBacklogBytes) {
      // Found in review (advrelay): records of refusals queued without bound behind a slow disk.
      this.failed = new AuditWriteError(
        this.file,
        new Error(`more than ${this.#maxBacklogBytes} bytes of records are waiting to be written`),
      );
      throw this.failed;
    }
    this.#backlogBytes += bytes;
    this.#prev = record.hash;
    this.#pending.push(line);
    this.#pendingHead = { seq: record.seq, hash: record.hash };
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
    const batchBytes = Buffer.byteLength(batch, "utf8");
    const done = this.#waiting;
    const head = this.#pendingHead;
    this.#pending = [];
    this.#waiting = undefined;
    this.#writing = this.#writing.then(async () => {
      const handle = this.#handle;
      if (this.failed || !handle) {
        this.failed ??= new AuditWriteError(this.file, new Error("the audit log is closed"));
        done?.reject(this.failed);
        this.#backlogBytes -= batchBytes;
        return;
      }
      try {
        await within(
          this.#writeTimeoutMs,
          (async () => {
            await handle.appendFile(batch, "utf8");
            await handle.datasync();
            // Found in review (advrelay): a log deleted while the relay runs kept taking records
            // into its unlinked file — gone once closed, while the stanzas they recorded crossed
            // (and a restart began a fresh chain that verifies). A record in a file no name
            // reaches is not written: fail closed. (A log renamed away keeps its records.)
            if ((await handle.stat()).nlink === 0) throw new Error("the log file was deleted");
          })(),
        );
        done?.resolve();
        if (head) this.#written(head);
      } catch (error) {
        this.failed = new AuditWriteError(this.file, error);
        done?.reject(this.failed);
      } finally {
        this.#backlogBytes -= batchBytes;
      }
    });
    return this.#writing;
  }

  /** After a batch is on disk: an anchor when it passed a multiple of `anchorEvery` records. */
  #written(head: AuditAnchor): void {
    const every = this.#anchorEvery;
    const crossed = Math.floor(head.seq / every) > Math.floor(this.#writtenSeq / every);
    this.#writtenSeq = head.seq;
    if (crossed && this.#onAnchor) {
      try {
        this.#onAnchor(head);
      } catch {
        // a logger that throws must not fail the audit log
      }
    }
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
