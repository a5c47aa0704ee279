// The boundary area of the admin API (admin/routes/boundary.ts) as a pure handler over real audit
// logs written by FileAuditSink: paging and filters, verify gives what `cordon audit verify` gives
// (ok, then the break at the tampered record with its offset), answers bounded in bytes; peerings
// show their direction clearances and controls as markings, never a secret or a listed word.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, readFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeBerClearance, makeClearance, PolicyRegistry } from "@cordon/policy";
import {
  defaultRules,
  FileAuditSink,
  randomAuditKey,
  verifyAuditText,
  type AuditEntry,
  type PeeringConfig,
} from "@cordon/relay";
import { createAdminHandler } from "../../../src/admin/handler.js";
import { peeringViews } from "../../../src/admin/peering-view.js";
import type { AuditLogRef } from "../../../src/admin/routes/boundary.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../..");
const registry = new PolicyRegistry();
const policy = registry.loadFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"));
const TOKEN = "boundary-route-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "cordon-boundary-"));

const entry = (n: number): AuditEntry => ({
  peering: "demo",
  direction: n % 2 ? "outbound" : "inbound",
  decision: n % 5 === 0 ? "refuse" : "pass",
  reason: n % 5 === 0 ? "direction-clearance" : "granted",
  stanza: "message",
  fromDomain: n % 2 ? "example.test" : "partner.test",
  toDomain: n % 2 ? "partner.test" : "example.test",
});

async function writeLog(name: string, n: number): Promise<AuditLogRef> {
  const key = randomAuditKey();
  const file = join(dir, name);
  const sink = await FileAuditSink.open(file, { key });
  for (let i = 1; i <= n; i++) sink.append(entry(i));
  await sink.flush();
  await sink.close();
  return { name: "relay", file, key };
}

const peering: PeeringConfig = {
  name: "demo",
  local: {
    service: "xmpp://127.0.0.1:5347",
    secret: "LOCAL-SECRET-MARKER",
    domains: ["example.test"],
    mucDomains: [],
    policy: policy.id,
    labelAware: true,
    markingLang: "",
  },
  remote: {
    service: "xmpp://127.0.0.1:6347",
    secret: "REMOTE-SECRET-MARKER",
    domains: ["partner.test"],
    mucDomains: [],
    policy: policy.id,
    labelAware: false,
    markingLang: "",
  },
  outbound: defaultRules({
    peers: { kind: "grant", domains: ["partner.test"] },
    // As the relay's config reader keeps it: BER in base64.
    clearance: Buffer.from(
      encodeBerClearance(
        makeClearance(
          policy,
          policy.classifications.filter((c) =>
            ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"].includes(c.name),
          ),
          [],
        ),
      ),
    ).toString("base64"),
    content: [{ words: ["EXCALIBUR-WORD-MARKER", "other"], classifications: ["SECRET"] }],
  }),
  inbound: defaultRules({ peers: { kind: "grant", domains: ["example.test"] } }),
};

function handlerFor(logs: AuditLogRef[]) {
  const handler = createAdminHandler(
    {
      components: () => [],
      boundary: () => ({
        relay: () => ({
          counters: { demo: { sendFailures: 0 } },
          peerings: peeringViews([peering], registry),
        }),
        auditLogs: () => logs,
      }),
    },
    { token: TOKEN },
  );
  return async (method: string, url: string, body?: unknown) => {
    const r = await handler({
      method,
      url,
      authorization: `Bearer ${TOKEN}`,
      host: "127.0.0.1",
      contentType: "application/json",
      body: body === undefined ? new Uint8Array() : Buffer.from(JSON.stringify(body)),
    });
    return {
      status: r.status,
      bytes: Buffer.byteLength(String(r.body)),
      json: JSON.parse(String(r.body)) as Record<string, unknown>,
    };
  };
}

describe("admin routes: boundary", () => {
  test("GET /peerings: counters and each direction's clearance and controls; no secret, no listed word", async () => {
    const call = handlerFor([]);
    const r = await call("GET", "/peerings");
    assert.equal(r.status, 200);
    const text = JSON.stringify(r.json);
    assert.doesNotMatch(text, /SECRET-MARKER|EXCALIBUR-WORD-MARKER/);
    const details = r.json.details as {
      name: string;
      outbound: {
        clearance: { source: string; marking?: { text: string; bg?: string } };
        content: unknown[];
      };
      inbound: { clearance: { source: string; domains?: string[] } };
    }[];
    assert.equal(details[0]?.name, "demo");
    assert.equal(details[0]?.outbound.clearance.source, "config");
    assert.match(details[0]?.outbound.clearance.marking?.text ?? "", /CONFIDENTIAL/);
    assert.ok(details[0]?.outbound.clearance.marking?.bg, "the SPIF colour");
    assert.deepEqual(details[0]?.outbound.content, [{ words: 2, classifications: ["SECRET"] }]);
    assert.deepEqual(details[0]?.inbound.clearance, { source: "store", domains: ["example.test"] });
    assert.deepEqual(r.json.peerings, { demo: { sendFailures: 0 } });
  });

  test("GET /audit: newest first, paging by cursor, filter by decision and peer; bad parameters 400", async () => {
    const log = await writeLog("browse.jsonl", 30);
    const call = handlerFor([log]);
    const first = await call("GET", "/audit?limit=4");
    assert.equal(first.status, 200);
    const seqs = (p: Record<string, unknown>) =>
      (p.records as { record: { seq: number } }[]).map((r) => r.record.seq);
    assert.deepEqual(seqs(first.json), [30, 29, 28, 27]);
    const second = await call("GET", `/audit?limit=4&cursor=${String(first.json.next)}`);
    assert.deepEqual(seqs(second.json), [26, 25, 24, 23]);
    const refused = await call("GET", "/audit?decision=refuse&limit=200");
    assert.deepEqual(seqs(refused.json), [30, 25, 20, 15, 10, 5]);
    assert.equal(refused.json.next, null);
    assert.equal(
      (await call("GET", "/audit?peer=partner.test&limit=200")).json.records instanceof Array,
      true,
    );
    assert.equal(((await call("GET", "/audit?peer=nobody.test")).json.records as unknown[]).length, 0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(((await call("GET", `/audit?since=${future}`)).json.records as unknown[]).length, 0);
    assert.equal((await call("GET", "/audit?limit=0")).status, 400);
    assert.equal((await call("GET", "/audit?limit=201")).status, 400);
    assert.equal((await call("GET", "/audit?cursor=-1")).status, 400);
    assert.equal((await call("GET", "/audit?since=yesterday")).status, 400);
    assert.equal((await call("GET", `/audit?reason=${"x".repeat(300)}`)).status, 400);
    assert.equal((await call("GET", "/audit?log=other")).status, 404);
  });

  test("a page's answer is bounded in bytes, whatever the limit", async () => {
    const log = await writeLog("big.jsonl", 2500);
    const r = await handlerFor([log])("GET", "/audit?limit=200");
    assert.ok(r.bytes < 300 * 1024, `${r.bytes} bytes`);
  });

  test("POST /audit/verify: ok as `cordon audit verify`; a tampered record shows where the chain breaks", async () => {
    const log = await writeLog("verify.jsonl", 20);
    const call = handlerFor([log]);
    const ok = await call("POST", "/audit/verify", { log: "relay" });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.ok, true);
    assert.equal(ok.json.records, 20);
    assert.equal(ok.json.keyId, log.key.id);
    // Tamper in place (same length, as an editor would): record 7's decision pass → drop.
    const text = readFileSync(log.file, "utf8");
    const lines = text.split("\n");
    const at = lines.slice(0, 6).join("\n").length + 1;
    const line = lines[6]!;
    assert.match(line, /"decision":"pass"/);
    const fd = openSync(log.file, "r+");
    writeSync(fd, line.replace('"decision":"pass"', '"decision":"drop"'), at, "utf8");
    closeSync(fd);
    const broken = await call("POST", "/audit/verify", {});
    assert.equal(broken.json.ok, false);
    assert.equal(broken.json.line, 7);
    assert.equal(broken.json.seq, 7);
    assert.equal(broken.json.offset, at);
    assert.equal(broken.json.records, 6);
    assert.match(String(broken.json.problem), /HMAC does not match/);
    // the same answer as the whole-text verify of `cordon audit verify`
    const whole = verifyAuditText(readFileSync(log.file, "utf8"), log.key);
    assert.equal(whole.ok, false);
    assert.equal(!whole.ok && whole.problem, broken.json.problem);
    // the page shows the records there: browsing from just after it starts with the tampered one
    assert.equal(broken.json.lineEnd, at + line.length + 1);
    const there = await call("GET", `/audit?limit=1&cursor=${String(broken.json.lineEnd)}`);
    assert.equal(
      (there.json.records as { offset: number; record: { decision: string } }[])[0]?.record.decision,
      "drop",
    );
    assert.equal((await call("POST", "/audit/verify", { anchor: "nope" })).status, 400);
    // GET answers the same (read-only: a viewer may verify)
    const viaGet = await call("GET", "/audit/verify?log=relay");
    assert.equal(viaGet.json.ok, false);
    assert.equal(viaGet.json.line, 7);
  });

  test("verifications asked at once run one at a time: a viewer cannot make the process hold a buffer per request", async () => {
    // GET /audit/verify is open to viewers; each verification reads the whole log through its own
    // 1 MiB buffer. 64 asked at once held 64 buffers and hashed the log 64 times side by side (adv16).
    const log = await writeLog("verify-many.jsonl", 3000);
    const call = handlerFor([log]);
    let peak = 0;
    const base = process.memoryUsage().arrayBuffers;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }, 1);
    try {
      const answers = await Promise.all(
        Array.from({ length: 64 }, (_, i) =>
          i % 2 ? call("GET", "/audit/verify?log=relay") : call("POST", "/audit/verify", { log: "relay" }),
        ),
      );
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.equal(a.json.ok, true);
        assert.equal(a.json.records, 3000);
      }
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak < 16 * 1024 * 1024, `${Math.round(peak / 1024 / 1024)} MiB of buffers held at once`);
  });

  test("no log and no relay: 404 CORDON_ADMIN_NOT_RUNNING", async () => {
    const handler = createAdminHandler({ components: () => [] }, { token: TOKEN });
    for (const url of ["/audit", "/peerings"]) {
      const r = await handler({
        method: "GET",
        url,
        authorization: `Bearer ${TOKEN}`,
        host: "127.0.0.1",
        body: new Uint8Array(),
      });
      assert.equal(r.status, 404, url);
      assert.equal(
        (JSON.parse(String(r.body)) as { error: { code: string } }).error.code,
        "CORDON_ADMIN_NOT_RUNNING",
      );
    }
  });
});
