// Browsing an audit log (the relay's, or the process log of `audit:`) from the admin console
// (issue 18): newest first, a page at a time, filtered by decision, reason, peer and time. The file
// is read backwards in chunks from a cursor — the byte offset where the previous page stopped — so
// a page costs at most `maxScanBytes` of reading and `maxResponseBytes` of answer whatever the size
// of the log; the log only ever grows at its end, so a cursor stays valid while it is written. The
// records are shown as written (they never hold content: @cordon/relay audit.ts); whether they are
// genuine is what verify tells (verifyAuditFileChunked), not this reader.
import { open } from "node:fs/promises";

export interface AuditFilter {
  /** pass | refuse | drop (relay), grant | deny | change (process log). */
  decision?: string;
  reason?: string;
  /** A relay peering's name or a domain on either side (relay); actor or target (process log). */
  peer?: string;
  /** Records of the process log by component (muc, catalog, admin) and action. */
  component?: string;
  action?: string;
  /** Milliseconds since the epoch, inclusive. */
  since?: number;
  until?: number;
}

export interface AuditPageOptions {
  /** Byte offset to read backwards from (the previous page's `next`); default: the end of the log. */
  cursor?: number;
  limit: number;
  filter: AuditFilter;
  /** Bytes of the log read for one page at most (default 4 MiB): then the page ends with a cursor. */
  maxScanBytes?: number;
  /** Bytes of records in one answer at most (default 256 KiB). */
  maxResponseBytes?: number;
  /** Bytes read at a time (default 64 KiB). */
  chunkBytes?: number;
}

export interface AuditPageRecord {
  /** Byte offset of the record's line in the file (verify names the same offset when it breaks there). */
  offset: number;
  record: Record<string, unknown> | undefined;
  /** Set when the line is not a JSON object (shown as such; verify tells why). */
  unreadable?: true;
}

export interface AuditPage {
  records: AuditPageRecord[];
  /** Where the next (older) page starts; null when the start of the log was reached. */
  next: number | null;
  /** The log's size when read. */
  size: number;
  /** Bytes read for this page. */
  scanned: number;
  /** Set when reading stopped at something that is no record (verify tells more). */
  problem?: string;
}

export const DEFAULT_SCAN_BYTES = 4 << 20;
export const DEFAULT_RESPONSE_BYTES = 256 << 10;
/** Lines longer than this are not read whole (no writer makes one): shown as unreadable. */
export const MAX_BROWSE_LINE_BYTES = 64 << 10;

function text(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Whether a record passes the filter (every given condition). */
export function matches(record: Record<string, unknown>, f: AuditFilter): boolean {
  if (f.decision !== undefined && record.decision !== f.decision) return false;
  if (f.reason !== undefined && record.reason !== f.reason) return false;
  if (f.component !== undefined && record.component !== f.component) return false;
  if (f.action !== undefined && record.action !== f.action) return false;
  if (f.peer !== undefined) {
    const p = f.peer.toLowerCase();
    const fields = [record.peering, record.fromDomain, record.toDomain, record.actor, record.target];
    if (!fields.some((v) => text(v)?.toLowerCase() === p)) return false;
  }
  if (f.since !== undefined || f.until !== undefined) {
    const t = Date.parse(text(record.ts) ?? "");
    if (Number.isNaN(t)) return false;
    if (f.since !== undefined && t < f.since) return false;
    if (f.until !== undefined && t > f.until) return false;
  }
  return true;
}

/** One page of `file`, newest record first. */
export async function readAuditPage(file: string, options: AuditPageOptions): Promise<AuditPage> {
  const maxScan = options.maxScanBytes ?? DEFAULT_SCAN_BYTES;
  const maxResponse = options.maxResponseBytes ?? DEFAULT_RESPONSE_BYTES;
  const chunk = Math.max(1024, options.chunkBytes ?? 64 << 10);
  const handle = await open(file, "r");
  try {
    const size = (await handle.stat()).size;
    const records: AuditPageRecord[] = [];
    let responseBytes = 0;
    let scanned = 0;
    // The unread region is [0, position); `tail` holds [position, position + tail.length), which
    // always ends at a line boundary (just after a newline, or at the cursor).
    let position = Math.min(options.cursor ?? size, size);
    let tail = Buffer.alloc(0);
    const buffer = Buffer.alloc(chunk);
    const readMore = async (): Promise<void> => {
      const from = Math.max(0, position - chunk);
      const { bytesRead } = await handle.read(buffer, 0, position - from, from);
      scanned += bytesRead;
      tail = Buffer.concat([buffer.subarray(0, bytesRead), tail]);
      position = from;
    };
    if (options.cursor === undefined) {
      // The last line may still be being written (no final newline yet): start after the last complete one.
      while (position > 0 && tail.lastIndexOf(10) < 0 && tail.length <= MAX_BROWSE_LINE_BYTES)
        await readMore();
      const lastNl = tail.lastIndexOf(10);
      tail = tail.subarray(0, lastNl + 1);
    }
    /** Where this page's lines start being read (progress is measured from it). */
    const startEnd = position + tail.length;
    const page = (next: number | null, problem?: string): AuditPage => ({
      records,
      next,
      size,
      scanned,
      ...(problem ? { problem } : {}),
    });
    for (;;) {
      const regionEnd = position + tail.length;
      if (regionEnd === 0) return page(null);
      // The last line of the region: after the newline before its own terminating one.
      const body = tail.length > 0 && tail[tail.length - 1] === 10 ? tail.length - 1 : tail.length;
      const nl = body > 0 ? tail.lastIndexOf(10, body - 1) : -1;
      if (nl < 0 && position > 0) {
        // The scan bound, once this page has moved back at all (the next one goes on from here).
        if (scanned >= maxScan && regionEnd < startEnd) return page(regionEnd);
        if (tail.length > MAX_BROWSE_LINE_BYTES)
          return page(
            null,
            `a line longer than ${MAX_BROWSE_LINE_BYTES} bytes ends at offset ${regionEnd}: verify the log`,
          );
        await readMore();
        continue;
      }
      const start = nl + 1;
      const offset = position + start;
      let record: Record<string, unknown> | undefined;
      try {
        const value: unknown = JSON.parse(tail.toString("utf8", start, body));
        if (typeof value === "object" && value !== null && !Array.isArray(value))
          record = value as Record<string, unknown>;
      } catch {
        record = undefined;
      }
      if (record === undefined ? noFilter(options.filter) : matches(record, options.filter)) {
        const entry: AuditPageRecord = record
          ? { offset, record }
          : { offset, record: undefined, unreadable: true };
        const bytes = Buffer.byteLength(JSON.stringify(entry));
        if (responseBytes + bytes > maxResponse && records.length > 0) return page(regionEnd);
        records.push(entry);
        responseBytes += bytes;
      }
      tail = tail.subarray(0, start);
      if (records.length >= options.limit) return page(offset > 0 ? offset : null);
    }
  } finally {
    await handle.close();
  }
}

function noFilter(f: AuditFilter): boolean {
  return Object.values(f).every((v) => v === undefined);
}
