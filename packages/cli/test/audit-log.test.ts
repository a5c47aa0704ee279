// The process audit log of `cordon start` (issue 16 item 9): keyed, its key generated at first
// start (0600); the MUC's decisions and admin changes go into it; `cordon audit verify` reads the key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, parseConfig } from "@cordon/component";
import { verifyAuditText } from "@cordon/relay";
import { openAuditLog, readAuditKeyFile, readProcessAudit, withMucAudit } from "../src/audit-log.js";
import { cordon } from "./cli-helpers.js";

test("a keyed process log: generated key, MUC decisions, anchors every N records, verified by the CLI", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-audit-log-"));
  try {
    const root = parseConfig(
      `stateDir: ${join(dir, "state")}\naudit: { file: ${join(dir, "audit.jsonl")}, anchorEvery: 2 }\ncomponents: { example: { domain: a.test, secret: s } }\n`,
    ).root;
    const settings = readProcessAudit(root)!;
    const logger = createLogger({ level: "silent", redactJids: false, name: "t" });
    const anchors: string[] = [];
    const spy = {
      ...logger,
      info: (o: { auditAnchor?: string }) => o.auditAnchor && anchors.push(o.auditAnchor),
    };
    const sink = await openAuditLog(settings, root, spy as unknown as typeof logger, (p) => p);
    const keyFile = join(dir, "state", "audit-key");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const observer = withMucAudit(undefined, sink, logger)!;
    observer.audit!({
      action: "join",
      granted: false,
      reason: "denied",
      room: "vault@rooms.a.test",
      actor: "carol@a.test",
    });
    observer.audit!({
      action: "groupchat",
      granted: true,
      reason: "granted",
      room: "ops@rooms.a.test",
      actor: "alice@a.test",
      marking: "SECRET",
      delivered: 2,
      withheld: 1,
    });
    observer.audit!({
      action: "groupchat",
      granted: false,
      reason: "label-above-clearance",
      room: "ops@rooms.a.test",
      actor: "carol@a.test",
    });
    await sink.close();
    const text = readFileSync(join(dir, "audit.jsonl"), "utf8");
    const records = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.component, r.action, r.decision, r.actor, r.target]),
      [
        ["muc", "join", "deny", "carol@a.test", "vault@rooms.a.test"],
        ["muc", "groupchat", "grant", "alice@a.test", "ops@rooms.a.test"],
        ["muc", "groupchat", "deny", "carol@a.test", "ops@rooms.a.test"],
      ],
    );
    assert.equal(records[1]!.marking, "SECRET");
    assert.ok(verifyAuditText(text, readAuditKeyFile(keyFile)).ok);
    assert.ok(anchors.length >= 1 && /^\d+:[0-9a-f]{64}$/.test(anchors[0]!), JSON.stringify(anchors));
    // `cordon audit verify` finds the generated key in the state directory by itself.
    const ok = await cordon(["audit", "verify", join(dir, "audit.jsonl")], {
      CORDON_STATE_DIR: join(dir, "state"),
    });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const viaConfig = await cordon(["audit", "verify", join(dir, "audit.jsonl"), "--key-file", keyFile]);
    assert.equal(viaConfig.status, 0, viaConfig.stdout + viaConfig.stderr);
    const wrong = await cordon(["audit", "verify", join(dir, "audit.jsonl")], {
      CORDON_STATE_DIR: join(dir, "none"),
    });
    assert.equal(wrong.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Found in review (advrelay): a process log that could not be written failed silently, and the
// MUC, the catalog and the admin API went on unaudited. Once it has failed, recording throws
// (the component refuses) and the failure is logged once.
test("once the process log has failed, recording throws: the component refuses (fail closed)", async () => {
  const { MemoryAuditSink } = await import("@cordon/relay");
  const { recordEvent, assertAuditWritable } = await import("../src/audit-log.js");
  const { AuditUnavailableError } = await import("../src/ops-errors.js");
  const sink = new MemoryAuditSink();
  const errors: string[] = [];
  const logger = {
    ...createLogger({ level: "silent", redactJids: false, name: "t" }),
    error: (_o: unknown, msg: string) => errors.push(msg),
  } as unknown as ReturnType<typeof createLogger>;
  const event = {
    component: "admin",
    action: "clearance-set",
    decision: "change",
    reason: "admin-api",
  } as const;
  recordEvent(sink, event, logger);
  assert.equal(sink.records.length, 1);
  sink.failed = new Error("ENOSPC: no space left on device");
  assert.throws(() => assertAuditWritable(sink), AuditUnavailableError);
  assert.throws(() => recordEvent(sink, event, logger), AuditUnavailableError);
  const observer = withMucAudit(undefined, sink, logger)!;
  assert.throws(
    () =>
      observer.audit!({
        action: "join",
        granted: true,
        reason: "granted",
        room: "r@m.a.test",
        actor: "a@a.test",
      }),
    AuditUnavailableError,
  );
  assert.equal(sink.records.length, 1, "nothing appended after the failure");
});
