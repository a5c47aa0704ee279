import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { Attribute, Change, Client } from "ldapts";
import { startSlapd, type SlapdInstance } from "@cordon/harness";
import {
  DirectoryConfigError,
  LdapDirectory,
  type LdapDirectoryOptions,
  type RawClearance,
  type StoreEvent,
} from "../src/index.js";
import { corpusBer, corpusText, eventually, memoryLogger, slapdDirectoryOptions } from "./helpers.js";

const ALICE_BER = corpusBer("harbour-clearance-officer.ber");
const ALICE_BER_2 = corpusBer("harbour-clearance-officer-sslprivileges.ber");
const BOB_XML = corpusText("harbour-clearance-deckhand.xml");
const MALFORMED_BER = Buffer.from([0x04, 0x03, 0x66, 0x6f, 0x6f]); // an OCTET STRING, not a Clearance SEQUENCE
const MALFORMED_XML = "<clearance xmlns='http://surevine.com/xmlns/spiffy'><policy";
const BACON = corpusText("harbour-label-customs.xml");
const LABEL_BER = corpusBer("no-policy-label.ber");

// A structural stand-in for the policy engine's parser (pure logic): a BER Clearance is a
// SEQUENCE (tag 0x30), an XML clearance is a well-closed <clearance> document.
function validate(raw: RawClearance): true | string {
  if (raw.encoding === "ber")
    return Buffer.from(raw.data, "base64")[0] === 0x30 ? true : "not a BER SEQUENCE";
  return /^\s*<clearance[\s>][\s\S]*<\/clearance>\s*$/u.test(raw.data) ? true : "not an XML clearance";
}

let slapd: SlapdInstance;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cordon-ldap-test-"));
  slapd = await startSlapd({
    users: [
      {
        uid: "alice",
        jid: "alice@example.mil",
        clearanceBer: [ALICE_BER],
        catalogLabels: [BACON, LABEL_BER],
      },
      { uid: "bob", jid: "Bob@Example.mil", clearanceXml: [BOB_XML] },
      { uid: "mallory", jid: "mallory@example.mil", clearanceBer: [MALFORMED_BER] },
      { uid: "dave", jid: "dave@example.mil", clearanceXml: [MALFORMED_XML] },
      { uid: "erin", jid: "erin@example.mil", clearanceBer: [MALFORMED_BER], clearanceXml: [BOB_XML] },
      { uid: "carol", jid: "carol@example.mil" },
    ],
  });
});

after(async () => {
  await slapd.stop();
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<LdapDirectoryOptions> = {}): LdapDirectoryOptions {
  return {
    ...slapdDirectoryOptions(slapd),
    catalogAttribute: { attribute: "cordonCatalogLabel", encoding: "auto" },
    validate,
    cacheTtlMs: 60_000,
    ...extra,
  };
}

async function admin(): Promise<Client> {
  const c = new Client({ url: slapd.url });
  await c.bind(slapd.adminDn, slapd.adminPassword);
  return c;
}

describe("LdapDirectory against slapd", () => {
  test("BER clearance via clearance;binary, XML clearance via a text attribute, none, unknown user", async () => {
    const d = new LdapDirectory(options());
    try {
      const a = await d.getUserClearance("Alice@example.mil");
      assert.ok(a.status === "known");
      assert.deepEqual(a.clearance, { encoding: "ber", data: ALICE_BER.toString("base64") });
      assert.equal(a.source, "directory");
      const again = await d.getUserClearance("alice@example.mil");
      assert.ok(again.status === "known" && again.source === "cache");
      const b = await d.getUserClearance("bob@example.mil");
      assert.ok(b.status === "known");
      assert.deepEqual(b.clearance, { encoding: "xml", data: BOB_XML });
      assert.deepEqual(await d.getUserClearance("carol@example.mil"), { status: "none" });
      assert.deepEqual(await d.getUserClearance("nobody@example.mil"), { status: "none" });
    } finally {
      await d.close();
    }
  });

  test("malformed clearances are treated as no clearance and logged once", async () => {
    const log = memoryLogger();
    const d = new LdapDirectory(options({ logger: log.logger, cacheTtlMs: 1 }));
    try {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await d.getUserClearance("mallory@example.mil"), { status: "none" });
        assert.deepEqual(await d.getUserClearance("dave@example.mil"), { status: "none" });
      }
      // A malformed value does not hide a good one in another attribute.
      const e = await d.getUserClearance("erin@example.mil");
      assert.ok(e.status === "known" && e.clearance.encoding === "xml");
      const warnings = log
        .lines()
        .filter((l) => l.msg === "malformed clearance in the directory, treated as no clearance");
      assert.deepEqual(warnings.map((w) => w.jid).sort(), [
        "dave@example.mil",
        "erin@example.mil",
        "mallory@example.mil",
      ]);
    } finally {
      await d.close();
    }
  });

  test("huge malformed values: what is remembered as logged is bounded in bytes, not values", async () => {
    // One directory entry whose malformed clearance is rewritten with new 512 KB values: each is
    // logged once, and the memory of what was logged keeps digests, not values. Before, a Set of
    // "jid, attribute, value" strings (cleared past 10,000) kept every value: 40 values held ~20 MB.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const log = memoryLogger();
    const d = new LdapDirectory(options({ logger: log.logger, cacheTtlMs: 1 }));
    const c = await admin();
    const huge = (i: number) => `not a clearance ${i} ${"x".repeat(512 * 1024)}`;
    const rewrite = (value: string) =>
      c.modify(
        slapd.userDn("dave"),
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "cordonXmlClearance", values: [value] }),
        }),
      );
    const warned = () =>
      log
        .lines()
        .filter(
          (l) =>
            l.msg === "malformed clearance in the directory, treated as no clearance" &&
            l.jid === "dave@example.mil",
        ).length;
    try {
      assert.deepEqual(await d.getUserClearance("dave@example.mil"), { status: "none" });
      const first = warned();
      gc();
      const before = process.memoryUsage().heapUsed;
      const rounds = 40;
      for (let i = 0; i < rounds; i++) {
        await rewrite(huge(i));
        await new Promise((r) => setTimeout(r, 2)); // past the 1 ms TTL: read again
        assert.deepEqual(await d.getUserClearance("dave@example.mil"), { status: "none" });
      }
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      console.log(`# ldap malformed: ${rounds} values of 512 KB, heap grown ${(grown / 1e6).toFixed(1)} MB`);
      assert.equal(warned(), first + rounds, "each new value logged once");
      // The same value again: not logged again.
      await new Promise((r) => setTimeout(r, 2));
      assert.deepEqual(await d.getUserClearance("dave@example.mil"), { status: "none" });
      assert.equal(warned(), first + rounds);
      assert.ok(grown < 6e6, `the logged-values memory grew the heap by ${grown} bytes`);
    } finally {
      await rewrite(MALFORMED_XML);
      await c.unbind();
      await d.close();
    }
  });

  test("filter injection through a JID is escaped (RFC 4515)", async () => {
    const d = new LdapDirectory(options());
    try {
      // Unescaped, (jid=*@example.mil) would be a substring match on every user.
      assert.deepEqual(await d.getUserClearance("*@example.mil"), { status: "none" });
      assert.deepEqual(await d.getUserClearance("x)(jid=alice@example.mil"), { status: "none" });
      assert.deepEqual(await d.getUserClearance("*)(|(objectclass=*@example.mil"), { status: "none" });
      assert.deepEqual(await d.getUserClearance("al\\2aice@example.mil"), { status: "none" });
    } finally {
      await d.close();
    }
  });

  test("a filter matching several entries answers unknown (fail closed)", async () => {
    const d = new LdapDirectory(options({ filter: "(jid=*{domain})" }));
    try {
      const r = await d.getUserClearance("alice@example.mil");
      assert.equal(r.status, "unknown");
    } finally {
      await d.close();
    }
  });

  // Fixed: a filter naming only {localpart} gave bob@any.other.domain the local bob's entry: a
  // remote server's user joining a room, or asking the catalog, was judged on his clearance.
  test("a {localpart} filter needs the directory's domains; other domains' users are not searched", async () => {
    const byUid = "(&(objectClass=cordonPerson)(uid={localpart}))";
    assert.throws(() => new LdapDirectory(options({ filter: byUid })), DirectoryConfigError);
    const d = new LdapDirectory(options({ filter: byUid, domains: ["Example.MIL"] }));
    try {
      assert.equal((await d.getUserClearance("alice@example.mil")).status, "known");
      assert.deepEqual(await d.getUserClearance("alice@evil.example"), { status: "none" });
      assert.deepEqual(await d.getPersonalCatalog("alice@evil.example"), { status: "none" });
    } finally {
      await d.close();
    }
    // {jid} and {domain} filters name the domain: no list needed.
    await new LdapDirectory(options({ filter: "(&(uid={localpart})(o={domain}))" })).close();
  });

  test("personal catalog labels, XML and BER detected", async () => {
    const d = new LdapDirectory(options());
    try {
      const c = await d.getPersonalCatalog("alice@example.mil");
      assert.ok(c.status === "known");
      const sorted = [...c.labels].sort((x, y) => x.encoding.localeCompare(y.encoding));
      assert.deepEqual(sorted, [
        { encoding: "ber", data: LABEL_BER.toString("base64") },
        { encoding: "xml", data: BACON },
      ]);
      assert.deepEqual(await d.getPersonalCatalog("bob@example.mil"), { status: "none" });
    } finally {
      await d.close();
    }
  });

  test("bind secret from a file and from an environment variable; a wrong secret answers unknown", async () => {
    const file = join(dir, "secret");
    writeFileSync(file, `${slapd.bindPassword}\n`);
    process.env.CORDON_TEST_LDAP_SECRET = slapd.bindPassword;
    const viaFile = new LdapDirectory(options({ bindSecret: { file } }));
    const viaEnv = new LdapDirectory(options({ bindSecret: { env: "CORDON_TEST_LDAP_SECRET" } }));
    const wrong = new LdapDirectory(options({ bindSecret: { value: "wrong" } }));
    const missing = new LdapDirectory(options({ bindSecret: { env: "CORDON_TEST_NO_SUCH_VARIABLE" } }));
    try {
      assert.equal((await viaFile.getUserClearance("alice@example.mil")).status, "known");
      assert.equal((await viaEnv.getUserClearance("alice@example.mil")).status, "known");
      assert.equal((await wrong.getUserClearance("alice@example.mil")).status, "unknown");
      assert.equal((await missing.getUserClearance("alice@example.mil")).status, "unknown");
    } finally {
      for (const d of [viaFile, viaEnv, wrong, missing]) await d.close();
      delete process.env.CORDON_TEST_LDAP_SECRET;
    }
  });

  test("listUsers: a search with the size limit, by {jid} or by {localpart}; unusable clearances left out", async () => {
    const d = new LdapDirectory(options());
    try {
      const all = await d.listUsers({});
      // alice (BER), bob (XML), erin (a usable XML beside a malformed BER); mallory, dave and carol have none usable.
      assert.deepEqual(
        all.entries.map((e) => e.jid),
        ["alice@example.mil", "bob@example.mil", "erin@example.mil"],
      );
      assert.equal(all.truncated, false);
      assert.equal(all.entries[0]?.clearance.encoding, "ber");
      const bob = await d.listUsers({ query: "BOB" });
      assert.deepEqual(
        bob.entries.map((e) => e.jid),
        ["bob@example.mil"],
      );
      // The size limit: one entry asked, more exist.
      const one = await d.listUsers({ limit: 1 });
      assert.equal(one.entries.length <= 1, true);
      assert.equal(one.truncated, true);
      // Filter metacharacters in the search text are escaped (RFC 4515), never a wildcard.
      assert.deepEqual((await d.listUsers({ query: "*)(uid=*" })).entries, []);
      await assert.rejects(d.listUsers({ limit: 0 }));
    } finally {
      await d.close();
    }
    const byUid = new LdapDirectory(options({ filter: "(uid={localpart})", domains: ["example.mil"] }));
    try {
      const found = await byUid.listUsers({ query: "ali" });
      assert.deepEqual(
        found.entries.map((e) => e.jid),
        ["alice@example.mil"],
      );
      assert.deepEqual((await byUid.listUsers({ query: "alice@other.test" })).entries, []);
    } finally {
      await byUid.close();
    }
  });

  test("configuration errors are typed", () => {
    assert.throws(() => new LdapDirectory(options({ filter: "(jid=alice)" })), DirectoryConfigError);
    assert.throws(() => new LdapDirectory(options({ filter: "(jid={user})" })), DirectoryConfigError);
    assert.throws(() => new LdapDirectory(options({ filter: "(jid={jid}" })), DirectoryConfigError);
    assert.throws(() => new LdapDirectory(options({ url: "http://x" })), DirectoryConfigError);
    assert.throws(() => new LdapDirectory(options({ clearanceAttributes: [] })), DirectoryConfigError);
  });

  test("a change in the directory is seen by the background refresh and notified", async () => {
    const d = new LdapDirectory(options({ cacheTtlMs: 3000, refreshIntervalMs: 100 }));
    const events: StoreEvent[] = [];
    d.subscribe((e) => events.push(e));
    const a = await admin();
    try {
      const first = await d.getUserClearance("alice@example.mil");
      assert.ok(first.status === "known");
      await a.modify(
        slapd.userDn("alice"),
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "clearance;binary", values: [ALICE_BER_2] }),
        }),
      );
      await eventually(
        () => events.some((e) => e.kind === "user-clearance" && e.jid === "alice@example.mil"),
        "change notification",
      );
      const now = await d.getUserClearance("alice@example.mil");
      assert.ok(now.status === "known");
      assert.equal(now.clearance.data, ALICE_BER_2.toString("base64"));
      await a.modify(
        slapd.userDn("alice"),
        new Change({
          operation: "delete",
          modification: new Attribute({ type: "cordonCatalogLabel", values: [] }),
        }),
      );
      await eventually(() => events.some((e) => e.kind === "catalog"), "catalog change notification");
    } finally {
      await a.modify(slapd.userDn("alice"), [
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "clearance;binary", values: [ALICE_BER] }),
        }),
        new Change({
          operation: "replace",
          modification: new Attribute({
            type: "cordonCatalogLabel",
            values: [Buffer.from(BACON), LABEL_BER],
          }),
        }),
      ]);
      await a.unbind();
      await d.close();
    }
  });

  test("fault: slapd stopped -> cached answers until the TTL, then unknown; back -> recovers; logged once", async () => {
    const log = memoryLogger();
    const ttl = 1500;
    const d = new LdapDirectory(
      options({ cacheTtlMs: ttl, refreshIntervalMs: 200, logger: log.logger, timeoutMs: 500 }),
    );
    try {
      assert.equal((await d.getUserClearance("alice@example.mil")).status, "known");
      await slapd.kill();
      const stoppedAt = Date.now();
      // Cached answer still served right after the stop (it was fresh).
      const cached = await d.getUserClearance("alice@example.mil");
      assert.ok(cached.status === "known" && cached.source === "cache");
      // A user never looked up: unknown at once.
      assert.equal((await d.getUserClearance("bob@example.mil")).status, "unknown");
      const after = await eventually(async () => {
        const r = await d.getUserClearance("alice@example.mil");
        if (r.status === "known") {
          assert.ok(Date.now() - stoppedAt < ttl + 1000, "a cached grant outlived its TTL");
          return undefined;
        }
        return r;
      }, "alice unknown after the TTL");
      assert.equal(after.status, "unknown");
      for (let i = 0; i < 10; i++) await d.getUserClearance("bob@example.mil");
      await slapd.restart();
      await eventually(
        async () => (await d.getUserClearance("alice@example.mil")).status === "known",
        "recovered",
        15_000,
      );
      assert.equal((await d.getUserClearance("bob@example.mil")).status, "known");
      const msgs = log.lines().map((l) => l.msg);
      assert.equal(msgs.filter((m) => m === "ldap connection lost").length, 1, JSON.stringify(msgs));
      assert.equal(msgs.filter((m) => m === "ldap connection restored").length, 1);
    } finally {
      await d.close();
    }
  });
});
