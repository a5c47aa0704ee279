import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  canonicalJson,
  FileAuditSink,
  GENESIS,
  MemoryAuditSink,
  verifyAuditText,
  parseAuditAnchor,
  type AuditEntry,
} from "../src/audit.js";

const entry = (n: number): AuditEntry => ({
  peering: "p",
  direction: "outbound",
  decision: n % 2 ? "pass" : "refuse",
  reason: n % 2 ? "granted" : "direction-clearance",
  stanza: "message",
  fromDomain: "a.test",
  toDomain: "b.test",
  marking: "TLP:GREEN",
});

function log(n: number): string {
  const sink = new MemoryAuditSink();
  for (let i = 1; i <= n; i++) sink.append(entry(i));
  return sink.text();
}

describe("audit chain", () => {
  test("canonical JSON sorts keys at every level and drops undefined", () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }),
      '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}',
    );
  });

  test("a fresh chain verifies, starting from the genesis hash", () => {
    const text = log(5);
    const first = JSON.parse(text.split("\n")[0]!) as { prev: string; seq: number };
    assert.equal(first.prev, GENESIS);
    assert.equal(first.seq, 1);
    const r = verifyAuditText(text);
    assert.ok(r.ok);
    assert.equal(r.records, 5);
  });

  test("an edited record fails at that record", () => {
    const lines = log(5).split("\n");
    lines[2] = lines[2]!.replace('"decision":"pass"', '"decision":"refuse"');
    const r = verifyAuditText(lines.join("\n"));
    assert.ok(!r.ok);
    assert.equal(r.line, 3);
    assert.match(r.problem, /edited/);
  });

  test("a deleted record fails at the next one", () => {
    const lines = log(5).split("\n");
    lines.splice(1, 1);
    const r = verifyAuditText(lines.join("\n"));
    assert.ok(!r.ok);
    assert.equal(r.line, 2);
  });

  test("a rehashed forgery still breaks the link to the next record", () => {
    const lines = log(3).split("\n");
    const rec = JSON.parse(lines[1]!) as Record<string, unknown>;
    rec.reason = "forged";
    lines[1] = JSON.stringify(rec);
    const r = verifyAuditText(lines.join("\n"));
    assert.ok(!r.ok);
    assert.equal(r.line, 2);
  });

  test("garbage and a torn last line are reported", () => {
    assert.equal((verifyAuditText("not json\n") as { line: number }).line, 1);
    const torn = log(2).slice(0, -10);
    assert.equal(verifyAuditText(torn).ok, false);
    assert.deepEqual(verifyAuditText(""), { ok: true, records: 0, head: GENESIS });
  });

  test("the file sink continues an existing chain across reopen, and refuses a broken one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-audit-"));
    const file = join(dir, "audit.jsonl");
    const a = await FileAuditSink.open(file);
    a.append(entry(1));
    a.append(entry(2));
    await a.close();
    const b = await FileAuditSink.open(file);
    b.append(entry(3));
    await b.flush();
    await b.close();
    const r = verifyAuditText(readFileSync(file, "utf8"));
    assert.ok(r.ok);
    assert.equal(r.records, 3);
    writeFileSync(file, readFileSync(file, "utf8").replace('"seq":3', '"seq":4'));
    await assert.rejects(FileAuditSink.open(file), { code: "CORDON_RELAY_AUDIT_CHAIN" });
  });

  test("written() resolves once the records appended so far are in the file (write-ahead for the relay)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const sink = await FileAuditSink.open(file);
    sink.append(entry(1));
    sink.append(entry(2));
    await sink.written();
    assert.equal(
      verifyAuditText(readFileSync(file, "utf8")).ok && verifyAuditText(readFileSync(file, "utf8")).records,
      2,
    );
    await sink.written(); // nothing pending: resolves at once
    sink.append(entry(3));
    const third = sink.written();
    assert.equal(readFileSync(file, "utf8").split("\n").length - 1, 2, "not written before the batch runs");
    await third;
    assert.equal(readFileSync(file, "utf8").split("\n").length - 1, 3);
    await sink.close();
  });

  test(
    "a failing disk (ENOSPC on /dev/full) fails the sink and rejects written(): nothing may cross",
    { skip: process.platform !== "linux" },
    async () => {
      const sink = await FileAuditSink.open("/dev/full");
      sink.append(entry(1));
      await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
      assert.ok(sink.failed);
      sink.append(entry(2));
      await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
      await sink.close();
    },
  );

  test("a closed sink fails instead of dropping records silently", async () => {
    const sink = await FileAuditSink.open(join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl"));
    await sink.close();
    sink.append(entry(1));
    await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
  });

  test("reopening a log larger than the 1 MiB tail it reads continues its chain", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const a = await FileAuditSink.open(file);
    for (let i = 1; i <= 8000; i++) a.append(entry(i));
    await a.close();
    assert.ok(readFileSync(file).length > 1 << 20);
    const b = await FileAuditSink.open(file);
    b.append(entry(8001));
    await b.close();
    const r = verifyAuditText(readFileSync(file, "utf8"));
    assert.ok(r.ok && r.records === 8001, JSON.stringify(r));
  });

  test("an anchor kept elsewhere shows records removed from the end, or a record replaced", () => {
    const sink = new MemoryAuditSink();
    for (let i = 1; i <= 5; i++) sink.append(entry(i));
    const head = sink.head();
    assert.equal(head.seq, 5);
    assert.equal(head.hash, sink.records[4]!.hash);
    const text = sink.text();
    assert.deepEqual(verifyAuditText(text, head), { ok: true, records: 5, head: head.hash });
    const truncated = text.split("\n").slice(0, 3).join("\n") + "\n";
    assert.equal(verifyAuditText(truncated).ok, true, "without an anchor, truncation is invisible");
    const found = verifyAuditText(truncated, head);
    assert.ok(
      !found.ok && /ends at record 3, before the anchored record 5/.test(found.problem),
      JSON.stringify(found),
    );
    const other = verifyAuditText(text, { seq: 2, hash: "a".repeat(64) });
    assert.ok(!other.ok && other.seq === 2, JSON.stringify(other));
    assert.deepEqual(parseAuditAnchor(`12:${"0f".repeat(32)}`), { seq: 12, hash: "0f".repeat(32) });
    for (const bad of ["", "12", `x:${"0".repeat(64)}`, `1:${"0".repeat(63)}`, `1:${"G".repeat(64)}`])
      assert.equal(parseAuditAnchor(bad), undefined, bad);
  });
});
