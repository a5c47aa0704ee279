// Browsing an audit log backwards a page at a time (admin/audit-browse.ts): every record exactly
// once across pages whatever the chunk size, newest first, filters, a line still being written is
// not shown, and the bounds on bytes read and answered hold.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryAuditSink, randomAuditKey, type AuditEntry } from "@cordon/relay";
import { readAuditPage, type AuditFilter, type AuditPage } from "../../src/admin/audit-browse.js";

const dir = mkdtempSync(join(tmpdir(), "cordon-browse-"));

function entry(n: number): AuditEntry {
  return {
    peering: n % 3 === 0 ? "alpha" : "bravo",
    direction: n % 2 ? "outbound" : "inbound",
    decision: n % 4 === 0 ? "refuse" : "pass",
    reason: n % 4 === 0 ? "direction-clearance" : "granted",
    stanza: "message",
    fromDomain: n % 2 ? "a.test" : "b.test",
    toDomain: n % 2 ? "b.test" : "a.test",
  };
}

function writeLog(name: string, n: number): { file: string; sink: MemoryAuditSink } {
  const sink = new MemoryAuditSink(true, randomAuditKey());
  for (let i = 1; i <= n; i++) sink.append(entry(i));
  const file = join(dir, name);
  writeFileSync(file, sink.text());
  return { file, sink };
}

async function all(file: string, filter: AuditFilter, limit: number, chunkBytes: number) {
  const seqs: number[] = [];
  let cursor: number | undefined;
  let pages = 0;
  for (;;) {
    const page: AuditPage = await readAuditPage(file, {
      limit,
      filter,
      chunkBytes,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    pages++;
    for (const r of page.records) seqs.push(r.record?.seq as number);
    if (page.next === null) return { seqs, pages };
    assert.ok(cursor === undefined || page.next < cursor, "the cursor moves back");
    cursor = page.next;
  }
}

test("pages newest first cover every record exactly once, at any chunk size", async () => {
  const { file } = writeLog("all.jsonl", 120);
  for (const chunk of [1024, 1500, 7000, 1 << 16])
    for (const limit of [1, 7, 50, 200]) {
      const { seqs } = await all(file, {}, limit, chunk);
      assert.deepEqual(
        seqs,
        Array.from({ length: 120 }, (_, i) => 120 - i),
        `chunk ${chunk} limit ${limit}`,
      );
    }
});

test("filters: decision, reason, peer (peering or domain), time range", async () => {
  const { file, sink } = writeLog("filter.jsonl", 60);
  const refuse = await all(file, { decision: "refuse" }, 5, 2048);
  assert.deepEqual(
    refuse.seqs,
    sink.records
      .filter((r) => r.decision === "refuse")
      .map((r) => r.seq)
      .reverse(),
  );
  assert.equal(refuse.seqs.length, 15);
  assert.equal((await all(file, { reason: "granted", peer: "alpha" }, 50, 4096)).seqs.length, 15);
  assert.equal((await all(file, { peer: "A.TEST" }, 200, 4096)).seqs.length, 60);
  assert.equal((await all(file, { peer: "c.test" }, 200, 4096)).seqs.length, 0);
  const ts = Date.parse(sink.records[0]!.ts);
  assert.equal((await all(file, { since: ts + 3_600_000 }, 200, 4096)).seqs.length, 0);
  assert.equal((await all(file, { since: ts - 1000, until: ts + 3_600_000 }, 200, 4096)).seqs.length, 60);
});

test("a last line still being written (no newline yet) is not shown; an unreadable line is shown as such", async () => {
  const { file } = writeLog("partial.jsonl", 5);
  appendFileSync(file, '{"decision":"pa');
  const page = await readAuditPage(file, { limit: 50, filter: {} });
  assert.deepEqual(
    page.records.map((r) => r.record?.seq),
    [5, 4, 3, 2, 1],
  );
  const broken = writeLog("broken.jsonl", 3);
  appendFileSync(broken.file, "not json\n");
  const shown = await readAuditPage(broken.file, { limit: 50, filter: {} });
  assert.equal(shown.records[0]?.unreadable, true);
  assert.equal(shown.records.length, 4);
  // a filter shows records only
  assert.equal(
    (await readAuditPage(broken.file, { limit: 50, filter: { decision: "pass" } })).records.length,
    3,
  );
});

test("bounded: bytes read per page and bytes answered per page", async () => {
  const { file } = writeLog("big.jsonl", 3000);
  // A filter that matches nothing: the page stops after the scan bound, with a cursor to go on.
  const scan = await readAuditPage(file, { limit: 50, filter: { peer: "nobody" }, maxScanBytes: 64 << 10 });
  assert.equal(scan.records.length, 0);
  assert.ok(scan.scanned <= (64 << 10) + (64 << 10), `scanned ${scan.scanned}`);
  assert.ok(scan.next !== null && scan.next > 0 && scan.next < scan.size);
  const answer = await readAuditPage(file, { limit: 200, filter: {}, maxResponseBytes: 8 << 10 });
  assert.ok(Buffer.byteLength(JSON.stringify(answer.records)) <= 8 << 10);
  assert.ok(answer.records.length > 5 && answer.records.length < 200);
  // the next page starts right before the last record answered
  const next = await readAuditPage(file, { limit: 1, filter: {}, cursor: answer.next! });
  assert.equal(next.records[0]?.record?.seq, (answer.records.at(-1)?.record?.seq as number) - 1);
});

test("the offset of each record is where its line starts", async () => {
  const { file, sink } = writeLog("offsets.jsonl", 10);
  const text = sink.text();
  const page = await readAuditPage(file, { limit: 10, filter: {} });
  for (const r of page.records) {
    const line = text.slice(r.offset, text.indexOf("\n", r.offset));
    assert.equal((JSON.parse(line) as { seq: number }).seq, r.record?.seq);
  }
});
