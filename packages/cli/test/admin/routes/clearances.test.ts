// The clearance routes (src/admin/routes/clearances.ts) through the pure admin handler, on a real
// environment: what is stored, what is answered, what is audited with who made it.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { NotDurableError, type RawClearance } from "@cordon/store";
import { errorCode, fixture, type Fixture } from "./people-fixture.js";

const ALICE = "alice@example.test";
const alice = encodeURIComponent(ALICE);
const who = { user: "officer", role: "admin" as const };

describe("clearance routes", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => f.close());

  test("PUT by names from the policy: stored, marking with the SPIF colours, audited with who, then GET says store", async () => {
    const put = await f.send(
      "PUT",
      `/clearances/${alice}`,
      JSON.stringify({
        classifications: ["UNCLASSIFIED", "SECRET"],
        categories: ["ALPHA", "Releasability/GBR"],
      }),
      "application/json",
      who,
    );
    assert.equal(put.status, 200);
    assert.deepEqual(put.json.marking, {
      text: "{UNCLASSIFIED|SECRET} ALPHA REL TO GBR",
      fg: "white",
      bg: "red",
    });
    assert.deepEqual(put.json.clearance, {
      policy: "1.3.6.1.4.1.99999.1.1",
      policyName: "Cordon Demo",
      classifications: ["UNCLASSIFIED", "SECRET"],
      categories: [
        { tagSet: "Compartments", names: ["ALPHA"] },
        { tagSet: "Releasability", names: ["GBR"] },
      ],
    });
    assert.equal((await f.env.store.getUserClearance(ALICE)).status, "known");
    const record = f.audit.records.at(-1) as unknown as Record<string, unknown>;
    assert.equal(record.action, "clearance-set");
    assert.equal(record.actor, "officer");
    assert.equal(record.target, ALICE);
    assert.equal(record.marking, "{UNCLASSIFIED|SECRET} ALPHA REL TO GBR");
    const got = await f.send("GET", `/clearances/${alice}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.source, "store");
    assert.ok(Date.parse(String(got.json.readAt)) > Date.now() - 60_000);
    assert.deepEqual(got.json.marking, put.json.marking);
  });

  test("a bad body or name changes nothing and is not audited; the error does not echo the body unbounded", async () => {
    const before = f.audit.records.length;
    const stored = await f.env.store.getUserClearance(ALICE);
    const long = "X".repeat(5000);
    for (const body of [
      JSON.stringify({ classifications: [long] }),
      JSON.stringify({ classifications: [] }),
      "not a clearance",
    ]) {
      const r = await f.send("PUT", `/clearances/${alice}`, body, "application/json", who);
      assert.equal(r.status, 400, body.slice(0, 40));
      assert.equal(errorCode(r), "CORDON_ADMIN_BAD_REQUEST");
      assert.ok(r.body.length < 2000, "bounded error");
    }
    assert.deepEqual(await f.env.store.getUserClearance(ALICE), stored);
    assert.equal(f.audit.records.length, before);
    const notUser = await f.send("GET", `/clearances/${encodeURIComponent("example.test")}`);
    assert.equal(notUser.status, 400);
  });

  test("list and search are paged by the store, each entry with its marking", async () => {
    for (let i = 0; i < 12; i++)
      await f.send(
        "PUT",
        `/clearances/user${String(i).padStart(2, "0")}%40example.test`,
        JSON.stringify({ classifications: ["RESTRICTED"] }),
      );
    const first = await f.send("GET", "/clearances?q=user&limit=5");
    assert.equal(first.status, 200);
    const entries = first.json.entries as {
      jid: string;
      marking: { text: string; bg?: string };
      source: string;
    }[];
    assert.deepEqual(
      entries.map((e) => e.jid),
      ["user00", "user01", "user02", "user03", "user04"].map((u) => `${u}@example.test`),
    );
    assert.deepEqual(entries[0]?.marking, { text: "{RESTRICTED}", fg: "white", bg: "blue" });
    assert.equal(entries[0]?.source, "store");
    const second = await f.send("GET", `/clearances?q=user&limit=5&cursor=${String(first.json.next)}`);
    assert.equal((second.json.entries as { jid: string }[])[0]?.jid, "user05@example.test");
    const one = await f.send("GET", "/clearances?q=ALICE");
    assert.deepEqual(
      (one.json.entries as { jid: string }[]).map((e) => e.jid),
      [ALICE],
    );
    assert.equal((await f.send("GET", "/clearances?limit=9999")).status, 400);
    assert.equal((await f.send("GET", "/clearances?cursor=%2A%2A")).status, 400);
  });

  test("DELETE removes, is audited, and a second DELETE is 404", async () => {
    await f.send("PUT", "/clearances/gone%40example.test", JSON.stringify({ classifications: ["SECRET"] }));
    const del = await f.send("DELETE", "/clearances/gone%40example.test", "", "application/json", who);
    assert.equal(del.status, 200);
    assert.equal((await f.env.store.getUserClearance("gone@example.test")).status, "none");
    const record = f.audit.records.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual(
      [record.action, record.actor, record.target],
      ["clearance-removed", "officer", "gone@example.test"],
    );
    assert.equal((await f.send("DELETE", "/clearances/gone%40example.test")).status, 404);
  });

  test("import: the preview shows each row's marking or error and writes nothing; apply writes every row, audited", async () => {
    const csv = [
      "jid,policy,classifications,categories",
      "imp1@example.test,,UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET,ALPHA,GBR",
      "imp2@example.test,Cordon Demo,UNCLASSIFIED,",
      '"imp3@example.test",,UNCLASSIFIED|SECRET,"Releasability/USA"',
    ].join("\n");
    const preview = await f.send("POST", "/clearances/import?dryRun=1", JSON.stringify({ text: csv }));
    assert.equal(preview.status, 200);
    assert.equal(preview.json.format, "csv");
    assert.deepEqual(
      (preview.json.rows as { jid: string; marking: { text: string } }[]).map((r) => [r.jid, r.marking.text]),
      [
        ["imp1@example.test", "{UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET} ALPHA REL TO GBR"],
        ["imp2@example.test", "{UNCLASSIFIED}"],
        ["imp3@example.test", "{UNCLASSIFIED|SECRET} REL TO USA"],
      ],
    );
    assert.equal((preview.json.rows as { policy?: string }[])[1]?.policy, "1.3.6.1.4.1.99999.1.1");
    assert.equal(
      (await f.env.store.getUserClearance("imp1@example.test")).status,
      "none",
      "dry run wrote nothing",
    );
    const before = f.audit.records.length;
    const applied = await f.send("POST", "/clearances/import", csv, "application/octet-stream", who);
    assert.equal(applied.status, 200);
    assert.equal(applied.json.written, 3);
    assert.equal((await f.env.store.getUserClearance("imp1@example.test")).status, "known");
    assert.equal(
      (await f.env.store.getUserClearance("imp2@example.test", "1.3.6.1.4.1.99999.1.1")).status,
      "known",
    );
    assert.equal(f.audit.records.length, before + 3);
    assert.ok(
      f.audit.records.slice(before).every((r) => (r as unknown as { actor: string }).actor === "officer"),
    );
  });

  test("import with one bad row: 422 with every row's outcome, nothing written", async () => {
    const csv =
      "ok1@example.test,,SECRET\nbad@example.test,,SECRET,NOSUCH\nnot-a-jid,,SECRET\nok1@example.test,,RESTRICTED\n";
    const r = await f.send("POST", "/clearances/import", JSON.stringify({ text: csv }));
    assert.equal(r.status, 422);
    assert.equal(errorCode(r), "CORDON_ADMIN_IMPORT_REFUSED");
    const problems = r.json.problems as { line: number; error: string }[];
    assert.deepEqual(
      problems.map((p) => p.line),
      [2, 3, 4],
    );
    assert.match(problems[0]?.error ?? "", /no category "NOSUCH"/u);
    assert.match(problems[2]?.error ?? "", /same user/u);
    assert.equal((await f.env.store.getUserClearance("ok1@example.test")).status, "none");
  });

  test("import LDIF (the directory's own form), as a preview", async () => {
    const ldif = [
      "version: 1",
      "",
      "# bob",
      "dn: uid=bob,ou=people,dc=example,dc=test",
      "objectClass: cordonPerson",
      "jid: bob@example.test",
      "clearance;binary:: MDUGCisGAQQBho0fAQEDAgN4MSMwIYAKYIZIAWUCAQgDAqETMBEGCysGAQQBho0fAQECAwIGQA==",
      "",
      "dn: uid=carol,ou=people,dc=example,dc=test",
      "jid: carol@example.test",
      "cordonXmlClearance: <clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='1.3.6.1.4.1.99999.1.1'/><cl",
      " assification lacv='1'/></clearance>",
      "",
    ].join("\n");
    const r = await f.send("POST", "/clearances/import?dryRun=1", ldif, "application/octet-stream");
    assert.equal(r.status, 200);
    assert.equal(r.json.format, "ldif");
    assert.deepEqual(
      (r.json.rows as { jid: string; line: number; marking: { text: string } }[]).map((x) => [
        x.line,
        x.jid,
        x.marking.text,
      ]),
      [
        [4, "bob@example.test", "{UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET} REL TO GBR"],
        [9, "carol@example.test", "{UNCLASSIFIED}"],
      ],
    );
  });

  test("peer and service clearances: set, get, remove, each audited", async () => {
    const body = JSON.stringify({ classifications: ["UNCLASSIFIED", "RESTRICTED"] });
    const put = await f.send("PUT", "/peers/Partner.Test?direction=inbound", body, "application/json", who);
    assert.equal(put.status, 200);
    assert.equal((await f.env.store.getPeerClearance("partner.test", "inbound")).status, "known");
    assert.equal((await f.env.store.getPeerClearance("partner.test", "outbound")).status, "none");
    const got = await f.send("GET", "/peers/partner.test");
    assert.deepEqual(Object.keys(got.json.directions as object), ["inbound"]);
    assert.equal((await f.send("GET", "/peers")).status, 200);
    assert.equal((await f.send("DELETE", "/peers/partner.test", "", "application/json", who)).status, 200);
    assert.equal((await f.send("GET", "/peers/partner.test")).status, 404);
    assert.equal((await f.send("PUT", "/peers/partner.test?direction=sideways", body)).status, 400);

    assert.equal(
      (await f.send("PUT", "/services/rooms.example.test", body, "application/json", who)).status,
      200,
    );
    const svc = await f.send("GET", "/services/rooms.example.test");
    assert.equal((svc.json.marking as { text: string }).text, "{UNCLASSIFIED|RESTRICTED}");
    assert.deepEqual(
      ((await f.send("GET", "/services")).json.services as { domain: string }[]).map((s) => s.domain),
      ["rooms.example.test"],
    );
    assert.equal((await f.send("DELETE", "/services/rooms.example.test")).status, 200);
    const actions = f.audit.records.slice(-4).map((r) => (r as unknown as { action: string }).action);
    assert.deepEqual(actions, [
      "peer-clearance-set",
      "peer-clearance-removed",
      "service-clearance-set",
      "service-clearance-removed",
    ]);
  });

  test("fail closed: an audit log that failed refuses the change; a store that is down answers 503 and stores nothing", async () => {
    f.audit.failed = new Error("disk full");
    try {
      const r = await f.send(
        "PUT",
        "/clearances/new%40example.test",
        JSON.stringify({ classifications: ["SECRET"] }),
      );
      assert.equal(r.status, 503);
      assert.equal(errorCode(r), "CORDON_AUDIT_UNAVAILABLE");
      assert.equal((await f.env.store.getUserClearance("new@example.test")).status, "none");
      const imp = await f.send(
        "POST",
        "/clearances/import",
        "new@example.test,,SECRET",
        "application/octet-stream",
      );
      assert.equal(imp.status, 503);
      assert.equal((await f.env.store.getUserClearance("new@example.test")).status, "none");
    } finally {
      f.audit.failed = undefined;
    }
    const down = await fixture({
      store: new Proxy(f.env.store, {
        get(target, prop) {
          if (prop === "getUserClearance")
            return async (): Promise<{ status: "unknown"; reason: string }> => ({
              status: "unknown",
              reason: "redis down",
            });
          if (prop === "setUserClearance")
            return async (_j: string, _c: RawClearance) => {
              throw Object.assign(new Error("redis set user clearance failed"), {
                code: "CORDON_STORE_UNAVAILABLE",
              });
            };
          return Reflect.get(target, prop) as unknown;
        },
      }),
    });
    try {
      const get = await down.send("GET", `/clearances/${alice}`);
      assert.equal(get.status, 503);
      const put = await down.send(
        "PUT",
        `/clearances/${alice}`,
        JSON.stringify({ classifications: ["SECRET"] }),
      );
      assert.equal(put.status, 503);
      assert.equal(down.audit.records.length, 0, "nothing recorded for a change that did not happen");
    } finally {
      await down.close();
    }
  });

  test("a user's per-policy entries are named with the policy-independent one, and alone are no 404", async () => {
    // The relay and the catalog read a user's entry for the label's policy before the
    // policy-independent one (store getUserClearance(jid, policy)). GET without ?policy= showed only
    // the latter (adv16): the console said "no clearance" — or showed the lowered one — while a
    // per-policy SECRET entry still decided, and gave no way to see or remove it.
    const OID = "1.3.6.1.4.1.99999.1.1";
    const bob = encodeURIComponent("bob@example.test");
    const secret = JSON.stringify({ classifications: ["SECRET"] });
    const low = JSON.stringify({ classifications: ["UNCLASSIFIED"] });
    assert.equal(
      (await f.send("PUT", `/clearances/${bob}?policy=${OID}`, secret, "application/json", who)).status,
      200,
    );
    const alone = await f.send("GET", `/clearances/${bob}`);
    assert.equal(alone.status, 200, alone.body);
    assert.equal(alone.json.source, "none");
    assert.deepEqual(
      (alone.json.perPolicy as { policy: string; marking: { text: string } }[]).map((e) => [
        e.policy,
        e.marking.text,
      ]),
      [[OID, "{SECRET}"]],
    );
    assert.equal((await f.send("PUT", `/clearances/${bob}`, low, "application/json", who)).status, 200);
    const both = await f.send("GET", `/clearances/${bob}`);
    assert.equal(both.json.source, "store");
    assert.equal((both.json.marking as { text: string }).text, "{UNCLASSIFIED}");
    assert.deepEqual(
      (both.json.perPolicy as { policy: string }[]).map((e) => e.policy),
      [OID],
      "the per-policy entry that decides for its policy's labels is named",
    );
    // The per-policy entry itself, and once removed, nothing more is named.
    const slot = await f.send("GET", `/clearances/${bob}?policy=${OID}`);
    assert.equal((slot.json.marking as { text: string }).text, "{SECRET}");
    assert.equal(
      (await f.send("DELETE", `/clearances/${bob}?policy=${OID}`, "", "application/json", who)).status,
      200,
    );
    const after = await f.send("GET", `/clearances/${bob}`);
    assert.deepEqual(after.json.perPolicy, []);
    assert.equal((await f.send("DELETE", `/clearances/${bob}`, "", "application/json", who)).status, 200);
    assert.equal((await f.send("GET", `/clearances/${bob}`)).status, 404);
  });

  test("an import the store fails part-way says how many rows were written, and records each", async () => {
    // The answer was the store's 503 alone (adv16): the page showed an error, and the officer could
    // take it that nothing was written, while the rows before the failure were in force.
    const rows = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, "0")}@example.test,,SECRET`);
    const partial = await fixture({
      store: new Proxy(f.env.store, {
        get(target, prop) {
          if (prop === "setUserClearance")
            return async (jid: string, raw: RawClearance, policy?: string) => {
              if (jid === "p20@example.test")
                throw Object.assign(new Error("redis down"), { code: "CORDON_STORE_UNAVAILABLE" });
              return target.setUserClearance(jid, raw, policy);
            };
          return Reflect.get(target, prop) as unknown;
        },
      }),
    });
    try {
      const r = await partial.send(
        "POST",
        "/clearances/import",
        rows.join("\n"),
        "application/octet-stream",
        who,
      );
      assert.equal(r.status, 503, r.body);
      assert.equal(errorCode(r), "CORDON_ADMIN_IMPORT_PARTIAL");
      const written = r.json.written as number;
      assert.ok(written >= 20 && written < 40, `${written} written`);
      assert.match((r.json.error as { message: string }).message, new RegExp(`${written} of 40`, "u"));
      let stored = 0;
      for (let i = 0; i < 40; i++)
        if (
          (await f.env.store.getUserClearance(`p${String(i).padStart(2, "0")}@example.test`)).status ===
          "known"
        )
          stored++;
      assert.equal(stored, written);
      assert.equal(partial.audit.records.length, written, "each row written is recorded");
    } finally {
      await partial.close();
    }
  });

  test("a peer change the store fails part-way is recorded for the direction it made", async () => {
    // direction=both is two writes; the store went down between them. The inbound write stood, and
    // nothing was recorded (adv16): a changed boundary clearance with no record of who changed it.
    const failOutbound =
      (prop: string) =>
      async (domain: string, direction: string, ...rest: unknown[]) => {
        if (direction === "outbound")
          throw Object.assign(new Error("redis down"), { code: "CORDON_STORE_UNAVAILABLE" });
        const own = Reflect.get(f.env.store, prop) as (...a: unknown[]) => Promise<unknown>;
        return own.call(f.env.store, domain, direction, ...rest);
      };
    const partial = await fixture({
      store: new Proxy(f.env.store, {
        get(target, prop) {
          if (prop === "setPeerClearance" || prop === "deletePeerClearance") return failOutbound(prop);
          return Reflect.get(target, prop) as unknown;
        },
      }),
    });
    try {
      const body = JSON.stringify({ classifications: ["SECRET"] });
      const put = await partial.send("PUT", "/peers/half.test?direction=both", body, "application/json", who);
      assert.equal(put.status, 503);
      assert.equal((await f.env.store.getPeerClearance("half.test", "inbound")).status, "known");
      const set = partial.audit.records.map((r) => r as unknown as Record<string, unknown>);
      assert.deepEqual(
        set.map((r) => [r.action, r.target, r.detail, r.actor]),
        [["peer-clearance-set", "half.test", "inbound", "officer"]],
        "the write that stood is recorded with who made it",
      );
      const del = await partial.send(
        "DELETE",
        "/peers/half.test?direction=both",
        "",
        "application/json",
        who,
      );
      assert.equal(del.status, 503);
      assert.equal((await f.env.store.getPeerClearance("half.test", "inbound")).status, "none");
      const removed = partial.audit.records.slice(1).map((r) => r as unknown as Record<string, unknown>);
      assert.deepEqual(
        removed.map((r) => [r.action, r.target, r.detail, r.actor]),
        [["peer-clearance-removed", "half.test", "inbound", "officer"]],
      );
    } finally {
      await partial.close();
    }
  });

  test("a change the store made but no replica confirmed is in force: answered 503 and recorded", async () => {
    // The Redis store throws NotDurableError after the write (packages/store durable-write.ts: too
    // few replicas answered WAIT). The routes threw before recording it: a clearance change in
    // force on the primary with no audit record of who made it.
    const WRITES = [
      "setUserClearance",
      "deleteUserClearance",
      "setPeerClearance",
      "deletePeerClearance",
      "setServiceClearance",
      "deleteServiceClearance",
    ];
    const unconfirmed = await fixture({
      store: new Proxy(f.env.store, {
        get(target, prop) {
          const own = Reflect.get(target, prop) as unknown;
          if (typeof prop !== "string" || !WRITES.includes(prop)) return own;
          return async (...a: unknown[]) => {
            await (own as (...a: unknown[]) => Promise<unknown>).apply(target, a);
            throw new NotDurableError(prop, 0, 1);
          };
        },
      }),
    });
    try {
      const body = JSON.stringify({ classifications: ["SECRET"] });
      const calls: [string, string, string][] = [
        ["PUT", "/clearances/nd@example.test", body],
        ["DELETE", "/clearances/nd@example.test", ""],
        ["PUT", "/peers/nd.test?direction=both", body],
        ["DELETE", "/peers/nd.test?direction=inbound", ""],
        ["PUT", "/services/svc.nd.test", body],
        ["DELETE", "/services/svc.nd.test", ""],
        ["POST", "/clearances/import", "nd1@example.test,,SECRET"],
      ];
      for (const [method, path, payload] of calls) {
        const type = path.endsWith("import") ? "application/octet-stream" : "application/json";
        const r = await unconfirmed.send(method, path, payload, type, who);
        assert.equal(r.status, 503, `${method} ${path}: ${r.body}`);
      }
      assert.equal((await f.env.store.getUserClearance("nd1@example.test")).status, "known");
      assert.equal(
        (await f.env.store.getPeerClearance("nd.test", "outbound")).status,
        "none",
        "stopped at the first",
      );
      const records = unconfirmed.audit.records.map((r) => r as unknown as Record<string, unknown>);
      assert.deepEqual(
        records.map((r) => [r.action, r.target, r.detail ?? null, r.actor]),
        [
          ["clearance-set", "nd@example.test", null, "officer"],
          ["clearance-removed", "nd@example.test", null, "officer"],
          // direction=both: the first write stood unconfirmed and the change stopped there.
          ["peer-clearance-set", "nd.test", "inbound", "officer"],
          ["peer-clearance-removed", "nd.test", "inbound", "officer"],
          ["service-clearance-set", "svc.nd.test", null, "officer"],
          ["service-clearance-removed", "svc.nd.test", null, "officer"],
          ["clearance-set", "nd1@example.test", null, "officer"],
        ],
        "every change in force is recorded with who made it",
      );
    } finally {
      await unconfirmed.close();
    }
  });

  test("a directory's clearance shows as source directory with when it was read", async () => {
    const raw = {
      encoding: "xml" as const,
      data: "<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy id='1.3.6.1.4.1.99999.1.1'/><classification lacv='1'/></clearance>",
    };
    const d = await fixture({
      directory: {
        getUserClearance: async () => ({ status: "known", clearance: raw, source: "cache" }),
        ageOf: () => 30_000,
        listUsers: async () => ({ entries: [{ jid: "dir@example.test", clearance: raw }], truncated: true }),
      },
      now: () => Date.parse("2026-12-04T12:00:00Z"),
    });
    try {
      const r = await d.send("GET", "/clearances/dir%40example.test");
      assert.equal(r.json.source, "directory");
      assert.equal(r.json.readAt, "2026-12-04T11:59:30.000Z");
      assert.equal((r.json.marking as { text: string }).text, "{UNCLASSIFIED}");
      const list = await d.send("GET", "/clearances?q=dir");
      const directory = list.json.directory as {
        entries: { jid: string; source: string }[];
        truncated: boolean;
      };
      assert.deepEqual(
        directory.entries.map((e) => [e.jid, e.source]),
        [["dir@example.test", "directory"]],
      );
      assert.equal(directory.truncated, true);
    } finally {
      await d.close();
    }
  });
});
