import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  auditKey,
  canonicalJson,
  canonicalLine,
  duplicateJsonKey,
  FileAuditSink,
  GENESIS,
  MemoryAuditSink,
  verifyAuditText,
  verifyAuditFile,
  randomAuditKey,
  verifyAuditFileChunked,
  parseAuditAnchor,
  type AuditEntry,
  type AuditRecord,
} from "../src/audit.js";

const KEY = auditKey("k".repeat(64));
const verify = (text: string, anchor?: Parameters<typeof verifyAuditText>[2]) =>
  verifyAuditText(text, KEY, anchor);
const open = (
  file: string,
  options: { anchorEvery?: number; onAnchor?: (a: { seq: number; hash: string }) => void } = {},
) => FileAuditSink.open(file, { key: KEY, ...options });

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
  const sink = new MemoryAuditSink(true, KEY);
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
    const r = verify(text);
    assert.ok(r.ok);
    assert.equal(r.records, 5);
  });

  test("an edited record fails at that record", () => {
    const lines = log(5).split("\n");
    lines[2] = lines[2]!.replace('"decision":"pass"', '"decision":"refuse"');
    const r = verify(lines.join("\n"));
    assert.ok(!r.ok);
    assert.equal(r.line, 3);
    assert.match(r.problem, /edited/);
  });

  test("a deleted record fails at the next one", () => {
    const lines = log(5).split("\n");
    lines.splice(1, 1);
    const r = verify(lines.join("\n"));
    assert.ok(!r.ok);
    assert.equal(r.line, 2);
  });

  test("a rehashed forgery still breaks the link to the next record", () => {
    const lines = log(3).split("\n");
    const rec = JSON.parse(lines[1]!) as Record<string, unknown>;
    rec.reason = "forged";
    lines[1] = JSON.stringify(rec);
    const r = verify(lines.join("\n"));
    assert.ok(!r.ok);
    assert.equal(r.line, 2);
  });

  test("records rewritten pass→refuse and re-chained without the key fail (issue 16 item 9)", () => {
    // What the unkeyed chain allowed: rewrite records 4–6 and re-chain every hash from there with
    // plain SHA-256 (or an HMAC under a guessed key): verify now fails at the first rewritten record.
    const lines = log(8).trimEnd().split("\n");
    for (const guess of [undefined, auditKey("not the key, but 32+ characters long")]) {
      const forged = [...lines];
      let prev = (JSON.parse(forged[2]!) as AuditRecord).hash;
      for (let i = 3; i < forged.length; i++) {
        const rec = JSON.parse(forged[i]!) as AuditRecord;
        if (i <= 5) rec.decision = "refuse";
        rec.prev = prev;
        const { hash: _old, ...rest } = rec;
        const hash = guess
          ? createHmac("sha256", guess.secret).update(canonicalJson(rest)).digest("hex")
          : createHash("sha256").update(canonicalJson(rest)).digest("hex");
        rec.hash = hash;
        forged[i] = canonicalLine(rec);
        prev = hash;
      }
      const r = verify(`${forged.join("\n")}\n`);
      assert.ok(!r.ok);
      assert.equal(r.line, 4);
      assert.match(r.problem, /HMAC does not match/);
    }
    // A whole log forged under another key: every record names that key.
    const other = new MemoryAuditSink(true, auditKey("x".repeat(64)));
    for (let i = 1; i <= 3; i++) other.append(entry(i));
    const r = verify(other.text());
    assert.ok(!r.ok && r.line === 1 && /another key/.test(r.problem), JSON.stringify(r));
  });

  test("a duplicate key is refused: the record must read one way to verify and to grep (issue 16 item 9)", () => {
    const lines = log(3).split("\n");
    // grep sees "refuse", JSON.parse the last value ("pass", which the HMAC covers).
    lines[0] = lines[0]!.replace('"decision":"pass"', '"decision":"refuse","decision":"pass"');
    const r = verify(lines.join("\n"));
    assert.ok(!r.ok && r.line === 1 && /"decision" occurs twice/.test(r.problem), JSON.stringify(r));
    assert.equal(duplicateJsonKey('{"a":1,"b":{"a":2},"c":"\\"a\\":"}'), undefined);
    assert.equal(duplicateJsonKey('{"a":1,"b":{"x":2,"x" :3}}'), "x");
  });

  test("any non-canonical record is refused: spacing, key order, escapes, number forms (issue 16 item 9)", () => {
    const text = log(3);
    const lines = text.split("\n");
    const variants = [
      lines[1]!.replace('","', '", "'),
      lines[1]!.replace("{", "{ "),
      `${lines[1]!} `,
      lines[1]!.replace(/"seq":(\d+)/u, '"seq":$1.0'),
      lines[1]!.replace('"direction":"outbound"', '"direction":"\\u006futbound"'),
      JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(lines[1]!) as object).reverse())),
    ];
    for (const variant of variants) {
      const edited = [...lines];
      edited[1] = variant;
      const r = verify(edited.join("\n"));
      assert.ok(!r.ok && r.line === 2 && /canonical/.test(r.problem), `${variant}: ${JSON.stringify(r)}`);
    }
  });

  test("the file sink reports an anchor every N records once written; truncation below it shows", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const anchors: { seq: number; hash: string }[] = [];
    const sink = await open(file, { anchorEvery: 10, onAnchor: (a) => anchors.push(a) });
    for (let i = 1; i <= 25; i++) {
      sink.append(entry(i));
      if (i % 3 === 0) await sink.written();
    }
    await sink.close();
    assert.deepEqual(
      anchors.map((a) => a.seq),
      [12, 21],
      "the head of the first batch past each multiple of 10",
    );
    const text = readFileSync(file, "utf8");
    const last = anchors.at(-1)!;
    assert.ok(verify(text, last).ok);
    const cut = text.split("\n").slice(0, 20).join("\n") + "\n";
    const r = verify(cut, last);
    assert.ok(!r.ok && /before the anchored record 21/.test(r.problem), JSON.stringify(r));
  });

  test("the file sink refuses to continue a log under another key or without one", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const a = await open(file);
    a.append(entry(1));
    await a.close();
    await assert.rejects(FileAuditSink.open(file, { key: auditKey("y".repeat(64)) }), /another key/);
    const rec = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    delete rec.kid;
    writeFileSync(file, `${JSON.stringify(rec)}\n`);
    await assert.rejects(open(file), /without a key/);
  });

  test("garbage and a torn last line are reported", () => {
    assert.equal((verify("not json\n") as { line: number }).line, 1);
    const torn = log(2).slice(0, -10);
    assert.equal(verify(torn).ok, false);
    assert.deepEqual(verify(""), { ok: true, records: 0, head: GENESIS });
  });

  test("the file sink continues an existing chain across reopen, and refuses a broken one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-audit-"));
    const file = join(dir, "audit.jsonl");
    const a = await open(file);
    a.append(entry(1));
    a.append(entry(2));
    await a.close();
    const b = await open(file);
    b.append(entry(3));
    await b.flush();
    await b.close();
    const r = verify(readFileSync(file, "utf8"));
    assert.ok(r.ok);
    assert.equal(r.records, 3);
    writeFileSync(file, readFileSync(file, "utf8").replace('"seq":3', '"seq":4'));
    await assert.rejects(open(file), { code: "CORDON_RELAY_AUDIT_CHAIN" });
  });

  test("written() resolves once the records appended so far are in the file (write-ahead for the relay)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const sink = await open(file);
    sink.append(entry(1));
    sink.append(entry(2));
    await sink.written();
    assert.equal(verify(readFileSync(file, "utf8")).ok && verify(readFileSync(file, "utf8")).records, 2);
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
      const sink = await open("/dev/full");
      sink.append(entry(1));
      await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
      assert.ok(sink.failed);
      sink.append(entry(2));
      await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
      await sink.close();
    },
  );

  // Found in review (advrelay): records written into a deleted log were taken as written.
  test("a log deleted while open fails the sink: records written to a file no name reaches are not written", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const sink = await open(file);
    sink.append(entry(1));
    await sink.written();
    unlinkSync(file);
    sink.append(entry(2));
    await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
    assert.ok(sink.failed);
    await sink.close();
  });

  test("a log renamed away while open keeps its records (the sink goes on)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-audit-"));
    const sink = await open(join(dir, "audit.jsonl"));
    sink.append(entry(1));
    await sink.written();
    renameSync(join(dir, "audit.jsonl"), join(dir, "audit.1.jsonl"));
    sink.append(entry(2));
    await sink.written();
    assert.equal(verify(readFileSync(join(dir, "audit.1.jsonl"), "utf8")).records, 2);
    await sink.close();
  });

  test("a closed sink fails instead of dropping records silently", async () => {
    const sink = await open(join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl"));
    await sink.close();
    sink.append(entry(1));
    await assert.rejects(sink.written(), { code: "CORDON_RELAY_AUDIT_WRITE" });
  });

  test("reopening a log larger than the 1 MiB tail it reads continues its chain", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cordon-audit-")), "audit.jsonl");
    const a = await open(file);
    for (let i = 1; i <= 8000; i++) a.append(entry(i));
    await a.close();
    assert.ok(readFileSync(file).length > 1 << 20);
    const b = await open(file);
    b.append(entry(8001));
    await b.close();
    const r = verify(readFileSync(file, "utf8"));
    assert.ok(r.ok && r.records === 8001, JSON.stringify(r));
  });

  test("an anchor kept elsewhere shows records removed from the end, or a record replaced", () => {
    const sink = new MemoryAuditSink(true, KEY);
    for (let i = 1; i <= 5; i++) sink.append(entry(i));
    const head = sink.head();
    assert.equal(head.seq, 5);
    assert.equal(head.hash, sink.records[4]!.hash);
    const text = sink.text();
    assert.deepEqual(verify(text, head), { ok: true, records: 5, head: head.hash });
    const truncated = text.split("\n").slice(0, 3).join("\n") + "\n";
    assert.equal(verify(truncated).ok, true, "without an anchor, truncation is invisible");
    const found = verify(truncated, head);
    assert.ok(
      !found.ok && /ends at record 3, before the anchored record 5/.test(found.problem),
      JSON.stringify(found),
    );
    const other = verify(text, { seq: 2, hash: "a".repeat(64) });
    assert.ok(!other.ok && other.seq === 2, JSON.stringify(other));
    assert.deepEqual(parseAuditAnchor(`12:${"0f".repeat(32)}`), { seq: 12, hash: "0f".repeat(32) });
    for (const bad of ["", "12", `x:${"0".repeat(64)}`, `1:${"0".repeat(63)}`, `1:${"G".repeat(64)}`])
      assert.equal(parseAuditAnchor(bad), undefined, bad);
  });
});

describe("audit backlog", () => {
  test("records waiting to be written are bounded in bytes: past the bound the log fails (nothing more crosses)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-audit-backlog-"));
    const sink = await FileAuditSink.open(join(dir, "audit.jsonl"), { key: KEY, maxBacklogBytes: 4096 });
    // All appended in one turn (as refusals are, behind a slow disk): nothing written yet.
    let thrown: unknown;
    for (let i = 1; i <= 200 && !thrown; i++) {
      try {
        sink.append(entry(i));
      } catch (error) {
        thrown = error;
      }
    }
    assert.ok(thrown, "appending past the bound fails");
    assert.ok(sink.failed, "the log is failed: the relay drops everything after (fail closed)");
    await assert.rejects(sink.written());
    await sink.close();
    // What was written before the bound is an intact chain.
    assert.equal(verify(readFileSync(join(dir, "audit.jsonl"), "utf8")).ok, true);
  });

  test("a log that keeps up is not failed by the bound", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-audit-backlog-"));
    const sink = await FileAuditSink.open(join(dir, "audit.jsonl"), { key: KEY, maxBacklogBytes: 4096 });
    for (let i = 1; i <= 200; i++) {
      sink.append(entry(i));
      if (i % 5 === 0) await sink.written();
    }
    await sink.flush();
    assert.equal(sink.failed, undefined);
    await sink.close();
  });
});

// Issue 19: records are written member by member in a precomputed key order instead of through a
// sorted copy of the record; every line is still exactly its record's canonical form, and the
// chain verifies — for entries with members of their own, undefined members and any text.
describe("audit lines written member by member", () => {
  test("each line is its record's canonical form, and the chain verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cordon-audit-lines-"));
    const file = join(dir, "audit.jsonl");
    const key = randomAuditKey();
    const sink = await FileAuditSink.open(file, { key });
    const texts = ["", 'a"b\\c', "é\u0000\u2028", "TLP:AMBER [TO:PARTNERS]", "x".repeat(300)];
    const records: AuditRecord[] = [];
    for (let i = 0; i < 200; i++) {
      const entry: Record<string, unknown> = {
        peering: texts[i % texts.length],
        direction: i % 2 ? "inbound" : "outbound",
        decision: ["pass", "refuse", "drop"][i % 3],
        reason: texts[(i + 1) % texts.length],
        stanza: "message",
        type: i % 4 ? "chat" : undefined,
        stripped: i % 5 ? [texts[i % texts.length], "b"] : undefined,
      };
      if (i % 7 === 0) entry.zzz = i; // a member of its own: sorted in
      if (i % 11 === 0) entry.aaa = { nested: [1, "two"] };
      if (i % 13 === 0) entry.component = "muc";
      records.push(sink.append(entry as unknown as AuditEntry));
    }
    await sink.close();
    const lines = readFileSync(file, "utf8").split("\n").slice(0, -1);
    assert.equal(lines.length, 200);
    for (let i = 0; i < lines.length; i++) {
      const parsed = JSON.parse(lines[i]!) as AuditRecord;
      assert.equal(canonicalLine(parsed), lines[i]);
      assert.equal(canonicalLine(records[i]!), lines[i]);
      assert.equal("type" in records[i]!, i % 4 !== 0, "undefined members are left out of the record");
    }
    assert.deepEqual(verifyAuditFile(file, key), { ok: true, records: 200, head: records[199]!.hash });
  });
});

describe("verifyAuditFileChunked (the console's and `cordon audit verify`'s check, in bounded chunks)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-audit-chunked-"));
  const cases: [string, (text: string) => string][] = [
    ["intact", (t) => t],
    ["a decision edited", (t) => t.replace('"decision":"refuse"', '"decision":"pass__"')],
    [
      "a record deleted",
      (t) =>
        t
          .split("\n")
          .filter((_, i) => i !== 3)
          .join("\n"),
    ],
    [
      "two records swapped",
      (t) => {
        const l = t.split("\n");
        [l[4], l[5]] = [l[5]!, l[4]!];
        return l.join("\n");
      },
    ],
    ["not JSON", (t) => t.replace(/\n/u, "\nnot json\n")],
    ["no final newline", (t) => t.slice(0, -1)],
    ["a spaced record", (t) => t.replace('{"decision"', '{ "decision"')],
  ];
  for (const [name, tamper] of cases) {
    test(`${name}: the same result as verifyAuditText at any chunk size, and the offset of the line named`, async () => {
      const text = tamper(log(40));
      const file = join(dir, `${name.replace(/\W/gu, "_")}.jsonl`);
      writeFileSync(file, text);
      const whole = verify(text);
      for (const chunk of [1024, 1500, 4096, 1 << 20]) {
        const { offset, lineEnd, bytes, ...r } = await verifyAuditFileChunked(file, KEY, undefined, chunk);
        assert.deepEqual(r, whole, `chunk ${chunk}`);
        assert.equal(bytes, Buffer.byteLength(text));
        if (!whole.ok) {
          const lineStart =
            text
              .split("\n")
              .slice(0, whole.line - 1)
              .join("\n").length + (whole.line > 1 ? 1 : 0);
          assert.equal(offset, Buffer.byteLength(text.slice(0, lineStart)), `offset at chunk ${chunk}`);
          if (lineEnd !== undefined)
            assert.equal(text[lineEnd - 1], "\n", "lineEnd follows the line's newline");
        } else assert.equal(offset, undefined);
      }
    });
  }
  test("an anchor past the end: records removed from the end", async () => {
    const file = join(dir, "anchored.jsonl");
    writeFileSync(file, log(10));
    const r = await verifyAuditFileChunked(file, KEY, { seq: 12, hash: "0".repeat(64) });
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.problem, /removed from its end/);
  });
});

// Review of relay12 (adv12r): the line is written member by member from precomputed names, the
// timestamp remembered per millisecond. Checked here against an independent reading: the spread
// `{ ...entry, ...chain }`, its keys sorted, undefined members left out, JSON.stringify of that.
describe("audit line against the spread it stands for (adv12r)", () => {
  const reference = (entry: object, chain: Record<string, unknown>): string => {
    const spread: Record<string, unknown> = { ...entry, ...chain };
    const sorted = Object.fromEntries(
      Object.keys(spread)
        .sort()
        .filter((k) => spread[k] !== undefined)
        .map((k) => [k, spread[k]]),
    );
    return JSON.stringify(sorted);
  };
  const odd: object[] = [
    { ...entry(1), detail: 'é\u0301 \u2028 "\\ \n \ud800 \u{1F600}', marking: "" },
    { ...entry(2), type: undefined, id: undefined, stripped: [] },
    { ...entry(3), stripped: ["a", "ns:\u0000"], detail: "0" },
    {
      component: "muc",
      action: "join",
      decision: "grant",
      reason: "r",
      delivered: 0,
      withheld: -0,
      items: 1.5,
      remote: false,
    },
    {
      component: "admin",
      action: "x",
      decision: "change",
      reason: "r",
      delivered: Number.NaN,
      items: Infinity,
    },
    Object.defineProperty({ ...entry(4) }, "marking", { value: "hidden", enumerable: false }),
    Object.assign(Object.create({ marking: "inherited", detail: "inherited" }) as object, entry(5)),
    { ...entry(6), zz: "own member", A: 1 },
    { ...entry(7), constructor: "c", toString: "t" },
    JSON.parse(
      '{"peering":"p","direction":"d","decision":"pass","reason":"r","stanza":"m","__proto__":"x"}',
    ) as object,
  ];

  test("every line is the sorted spread, verifies, and its record holds what the line holds", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "adv12r-"));
    const file = join(dir, "audit.jsonl");
    const sink = await open(file);
    // Across a millisecond, a second, the same millisecond again and the clock going back.
    const times = [
      1_700_000_000_999, 1_700_000_001_000, 1_700_000_001_000, 1_699_999_999_000, 1_700_000_000_999,
    ];
    let now = times[0]!;
    t.mock.method(Date, "now", () => now);
    const expected: string[] = [];
    let prev = GENESIS;
    for (let i = 0; i < odd.length * times.length; i++) {
      now = times[i % times.length]!;
      const e = odd[i % odd.length]!;
      const record = sink.append(e as AuditEntry);
      const json = reference(e, { seq: i + 1, ts: new Date(now).toISOString(), kid: KEY.id, prev });
      const hash = createHmac("sha256", KEY.secret).update(json).digest("hex");
      assert.equal(record.hash, hash, `record ${i + 1}: ${json}`);
      assert.equal(record.ts, new Date(now).toISOString());
      // The record returned reads as its line (a "__proto__" member cannot be assigned to it: an
      // entry of the relay never has one; such an entry is written and verified all the same).
      if (!Object.hasOwn(e, "__proto__")) assert.equal(canonicalJson({ ...record, hash: undefined }), json);
      expected.push(`${json.slice(0, -1)},"hash":"${hash}"}\n`);
      prev = hash;
    }
    await sink.close();
    const text = readFileSync(file, "utf8");
    assert.equal(text, expected.join(""));
    assert.deepEqual(verifyAuditFile(file, KEY), { ok: true, records: expected.length, head: prev });
  });
});

// Session 13 (relay13): the line is written from the entry's own members put in their sorted
// places (Object.keys, not a read of every known name), and a string value with nothing JSON
// escapes is quoted as it is. Checked on 5,000 random entries against the reading the log format
// stands for — the spread `{ ...entry, ...chain }`, keys sorted, undefined members left out,
// JSON.stringify — byte for byte, with every HMAC recomputed and the whole log verified.
describe("audit lines on random entries, byte for byte (relay13)", () => {
  test("5,000 random entries: every line is the sorted spread's JSON, every HMAC matches", async () => {
    let seed = 13;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = [
      "a",
      "TLP:AMBER",
      '"',
      "\\",
      "\u0000",
      "\u001f",
      "\u007f",
      "\u2028",
      "\u2029",
      "é",
      "\ud800",
      "\udc00",
      "\u{1F600}",
      "\ufffe",
      "/",
      "<&>",
      " ",
      "\n",
      "\t",
    ];
    const text = (): string => {
      let s = "";
      for (let i = rnd(6); i > 0; i--) s += pieces[rnd(pieces.length)];
      return s;
    };
    const names = [
      ...["peering", "direction", "decision", "reason", "stanza", "type", "id", "fromDomain", "toDomain"],
      ...["marking", "policy", "labelSource", "stripped", "detail", "component", "action", "actor"],
      ...["target", "delivered", "withheld", "items", "remote", "seq", "ts", "kid", "prev"],
      ...["zz", "A", "constructor"],
    ];
    const value = (): unknown => {
      switch (rnd(9)) {
        case 0:
          return undefined;
        case 1:
          return rnd(1000) - 500;
        case 2:
          return rnd(2) === 0;
        case 3:
          return [text(), text()];
        case 4:
          return [Number.NaN, 1.5, -0][rnd(3)];
        default:
          return text();
      }
    };
    const reference = (e: Record<string, unknown>, chain: Record<string, unknown>): string => {
      const spread: Record<string, unknown> = { ...e, ...chain };
      return JSON.stringify(
        Object.fromEntries(
          Object.keys(spread)
            .sort()
            .filter((k) => spread[k] !== undefined)
            .map((k) => [k, spread[k]]),
        ),
      );
    };
    const sink = new MemoryAuditSink(true, KEY);
    const expected: string[] = [];
    let prev = GENESIS;
    for (let i = 0; i < 5000; i++) {
      const e: Record<string, unknown> = {};
      // Mostly the relay's shapes (known names only), sometimes a name of its own.
      for (let m = 3 + rnd(12); m > 0; m--)
        e[names[rnd(i % 10 === 0 ? names.length : names.length - 3)]!] = value();
      const record = sink.append(e as unknown as AuditEntry);
      const json = reference(e, { seq: i + 1, ts: record.ts, kid: KEY.id, prev });
      const hash = createHmac("sha256", KEY.secret).update(json).digest("hex");
      assert.equal(record.hash, hash, `record ${i + 1}: ${json}`);
      expected.push(`${json.slice(0, -1)},"hash":"${hash}"}\n`);
      prev = hash;
    }
    assert.equal(sink.text(), expected.join(""));
    assert.deepEqual(verifyAuditText(sink.text(), KEY), { ok: true, records: 5000, head: prev });
  });
});

// Review adv13: the line's values wait in one module-wide array between the entry's read and the
// line's writing. A value JSON.stringify throws on (a BigInt, a cycle, a throwing toJSON) stopped
// the writing half way and left the members after it in that array: the next record, of another
// entry, was written with them — a refusal's peering, domains and reason in a MUC event's record,
// sealed by a valid HMAC. Each record holds its own entry's members only, whatever came before.
describe("audit line after an entry that cannot be written (adv13)", () => {
  test("a throw while writing one record leaves nothing in the next", () => {
    const sink = new MemoryAuditSink(true, KEY);
    const bad = {
      peering: "p",
      direction: "outbound",
      decision: "refuse",
      reason: "direction-clearance",
      stanza: "message",
      detail: 1n, // JSON.stringify throws on a BigInt
      fromDomain: "a.test",
      toDomain: "b.test",
      marking: "SECRET",
    } as unknown as AuditEntry;
    assert.throws(() => sink.append(bad), TypeError);
    const record = sink.append({
      component: "muc",
      action: "join",
      decision: "grant",
      reason: "granted",
    } as unknown as AuditEntry);
    const members = Object.keys(record).sort();
    assert.deepEqual(members, [
      "action",
      "component",
      "decision",
      "hash",
      "kid",
      "prev",
      "reason",
      "seq",
      "ts",
    ]);
    // Nor a gap in the numbers: a missing seq reads as a deleted record.
    assert.equal(record.seq, 1);
    assert.equal(verifyAuditText(sink.text(), KEY).ok, true);
  });

  test("the file sink: the log after a throw verifies, each record its own members", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "adv13-audit-")), "audit.log");
    const sink = await open(file);
    sink.append(entry(1));
    assert.throws(() => sink.append({ ...entry(2), detail: 2n } as unknown as AuditEntry), TypeError);
    const record = sink.append({
      component: "catalog",
      action: "catalog",
      decision: "grant",
      reason: "r",
    } as never);
    await sink.close();
    assert.equal(record.seq, 2);
    assert.equal(record.marking, undefined);
    assert.deepEqual(verifyAuditFile(file, KEY), { ok: true, records: 2, head: record.hash });
  });
});

describe("the writer's HMAC (relay19)", () => {
  test("keyedHash is createHmac's HMAC-SHA256 for keys of every length and random texts", async () => {
    const { keyedHash } = await import("../src/audit.js");
    let seed = 1919;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    // ASCII, Latin-1, BMP, astral (paired surrogates), lone surrogates, NUL: every UTF-8 length.
    const alphabet = ["a", "{", '"', "\u0000", "é", "\u2028", "機", "\ud83d\ude00", "\ud800", "\udfff", "~"];
    for (const keyLength of [0, 1, 31, 32, 63, 64, 65, 100, 200]) {
      const bytes = Buffer.alloc(keyLength);
      for (let i = 0; i < keyLength; i++) bytes[i] = Math.floor(next() * 256);
      const key = auditKey(bytes);
      for (let n = 0; n < 300; n++) {
        // Lengths past the first buffer (1,024 bytes) too, so it grows; and back to short ones.
        // and past the largest buffer kept (64 KiB), which takes one of its own.
        const length =
          n % 100 === 0
            ? 30_000 + Math.floor(next() * 10_000)
            : n % 50 === 0
              ? 2000 + Math.floor(next() * 3000)
              : Math.floor(next() * 400);
        let text = "";
        for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)]!;
        assert.equal(
          keyedHash(text, key),
          createHmac("sha256", key.secret).update(text).digest("hex"),
          `key ${keyLength} bytes, text ${JSON.stringify(text.slice(0, 40))}`,
        );
      }
    }
  });
});
