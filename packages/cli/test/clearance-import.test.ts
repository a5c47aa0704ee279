// Bulk import (src/clearance-import.ts): the CSV and LDIF forms, the checks before anything is
// written, and `cordon clearance import` in one process against a real Redis — 100 users.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startRedis, type RedisInstance } from "@cordon/harness";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore, RedisStore } from "@cordon/store";
import { applyImport, detectImportFormat, planImport } from "../src/clearance-import.js";
import { cordon } from "./cli-helpers.js";

const DEMO = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../deploy/quickstart/demo-policy.xml",
);
const LDIF = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../deploy/ldap/example-users.ldif");
const registry = new PolicyRegistry();
const policy = registry.loadFileSync(DEMO);

describe("planImport", () => {
  test("CSV: header, comments, quoting, several classifications, TagSet/NAME, a policy column", () => {
    const plan = planImport(
      [
        "jid,policy,classifications,categories",
        "# a comment",
        "",
        'Alice@Example.TEST,,UNCLASSIFIED|SECRET,ALPHA,"Releasability/GBR"',
        '"bob@example.test",1.3.6.1.4.1.99999.1.1,"UNCLASSIFIED",,',
      ].join("\r\n"),
      registry,
      policy,
    );
    assert.equal(plan.format, "csv");
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(
      plan.rows.map((r) => [r.line, r.jid, r.forPolicy, r.marking]),
      [
        [4, "alice@example.test", undefined, "{UNCLASSIFIED|SECRET} ALPHA REL TO GBR"],
        [5, "bob@example.test", "1.3.6.1.4.1.99999.1.1", "{UNCLASSIFIED}"],
      ],
    );
  });

  test("every bad row is reported with its line, bounded; applying a plan with problems writes nothing", async () => {
    const long = "Z".repeat(10_000);
    const plan = planImport(
      `ok@example.test,,SECRET\nexample.test,,SECRET\nx@example.test,,\ny@example.test,nosuch,SECRET\nz@example.test,,${long}\nok@example.test,,SECRET\n`,
      registry,
      policy,
    );
    assert.deepEqual(
      plan.problems.map((p) => p.line),
      [2, 3, 4, 5, 6],
    );
    assert.ok(plan.problems.every((p) => p.error.length <= 240));
    const store = new MemoryStore();
    await assert.rejects(applyImport(plan, store));
    assert.deepEqual(await store.listUserClearances(), []);
    assert.deepEqual(planImport("", registry, policy).problems, [
      { line: 1, error: "no rows: the file holds no clearance" },
    ]);
  });

  test("LDIF: the directory's example users, folded lines and base64 values", () => {
    const text = readFileSync(LDIF, "utf8");
    assert.equal(detectImportFormat(text), "ldif");
    const plan = planImport(text.replaceAll("example.mil", "example.test"), registry, policy);
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(
      plan.rows.map((r) => [r.jid, r.raw.encoding, r.marking]),
      [
        [
          "alice@example.test",
          "ber",
          "{UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET|TOP SECRET} ALPHA/BRAVO REL TO GBR, USA",
        ],
        ["bob@example.test", "ber", "{UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET} REL TO GBR"],
        ["carol@example.test", "xml", "{UNCLASSIFIED}"],
      ],
    );
    const bad = planImport(
      "dn: uid=x,dc=t\njid: x@example.test\n\ndn: uid=y,dc=t\nchangetype: delete\n",
      registry,
      policy,
      "ldif",
    );
    assert.deepEqual(
      bad.problems.map((p) => [p.line, p.error]),
      [
        [1, "the entry needs exactly one clearance (clearance;binary or cordonXmlClearance)"],
        [4, "only entries to add are imported (changetype: add)"],
      ],
    );
  });
});

describe("cordon clearance import against a real Redis", () => {
  let redis: RedisInstance;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), "cordon-import-test-"));
    env = { REDIS_URL: redis.url, CORDON_REDIS_PREFIX: "imp:" };
  });
  after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("100 users in one process: dry run writes nothing, the import writes all of them", async () => {
    const rows = Array.from(
      { length: 100 },
      (_, i) => `user${i}@example.test,,UNCLASSIFIED|RESTRICTED|CONFIDENTIAL,GBR`,
    );
    const file = join(dir, "users.csv");
    writeFileSync(file, `jid,policy,classifications,categories\n${rows.join("\n")}\n`);
    const store = new RedisStore({ url: redis.url, prefix: "imp:", cacheTtlMs: 0 });
    await store.ready();
    try {
      const dry = await cordon(["clearance", "import", file, "--policy", DEMO, "--dry-run"], env);
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, /100 row\(s\) checked \(dry run: nothing was written\)/u);
      assert.equal((await store.listUserClearances()).length, 0);
      const started = Date.now();
      const run = await cordon(["clearance", "import", file, "--policy", DEMO], env);
      const took = Date.now() - started;
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /100 clearance\(s\) written/u);
      assert.match(
        run.stdout,
        /user99@example\.test\t\{UNCLASSIFIED\|RESTRICTED\|CONFIDENTIAL\} REL TO GBR/u,
      );
      const listed = await store.listUserClearances();
      assert.equal(listed.length, 100);
      // One process for all (the old way: one process per user, ~0.7 s each).
      assert.ok(took < 15_000, `${took} ms`);
      // A file with one bad row: exit 1, the reason on stderr, nothing more written.
      const bad = join(dir, "bad.csv");
      writeFileSync(bad, "new1@example.test,,SECRET\nnew2@example.test,,NOPE\n");
      const refused = await cordon(["clearance", "import", bad, "--policy", DEMO], env);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /line 2\tnew2@example\.test\terror: .*no classification "NOPE"/u);
      assert.equal((await store.getUserClearance("new1@example.test")).status, "none");
    } finally {
      await store.close();
    }
  });
});
