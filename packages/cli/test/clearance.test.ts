import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis, type RedisInstance } from "@cordon/harness";
import { RedisStore } from "@cordon/store";
import { cordon, CORPUS } from "./cli-helpers.js";

const POLICY = `${CORPUS}/harbour-policy.xml`;
const ALL_OKAY_MARKING =
  "| {CREW|OFFICERS} HAZ:TOXIC+FLAMMABLE BONDED BERTH NORTH,SOUTH WET CUSTOMS/QUARANTINE |";

describe("cordon clearance against a real Redis", () => {
  let redis: RedisInstance;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), "cordon-cli-test-"));
    env = { REDIS_URL: redis.url, CORDON_REDIS_PREFIX: "cli:" };
  });
  after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("set from BER, XML and base64 files prints the display marking; the store holds the raw value", async () => {
    const ber = await cordon(
      [
        "clearance",
        "set",
        "Alice@Example.MIL",
        `${CORPUS}/harbour-clearance-officer.ber`,
        "--policy",
        POLICY,
      ],
      env,
    );
    assert.equal(ber.status, 0, ber.stderr);
    assert.equal(ber.stdout.trim(), `alice@example.mil: ${ALL_OKAY_MARKING}`);
    const xml = await cordon(
      ["clearance", "set", "bob@example.mil", `${CORPUS}/harbour-clearance-deckhand.xml`, "--policy", POLICY],
      env,
    );
    assert.equal(xml.status, 0, xml.stderr);
    assert.equal(xml.stdout.trim(), "bob@example.mil: | {PUBLIC|CREW} HAZ:FLAMMABLE BERTH SOUTH DRY |");
    const b64 = join(dir, "c.b64");
    writeFileSync(b64, readFileSync(`${CORPUS}/harbour-clearance-officer.ber`).toString("base64") + "\n");
    const viaB64 = await cordon(
      [
        "clearance",
        "set",
        "carol@example.mil",
        b64,
        "--policy",
        POLICY,
        "--for-policy",
        "1.3.6.1.4.1.99999.2.1",
      ],
      env,
    );
    assert.equal(viaB64.status, 0, viaB64.stderr);

    // Another process (a component) sees exactly what the CLI stored.
    const store = new RedisStore({ url: redis.url, prefix: "cli:" });
    try {
      await store.ready();
      const a = await store.getUserClearance("alice@example.mil");
      assert.ok(a.status === "known");
      assert.deepEqual(a.clearance, {
        encoding: "ber",
        data: readFileSync(`${CORPUS}/harbour-clearance-officer.ber`).toString("base64"),
      });
      const b = await store.getUserClearance("bob@example.mil");
      assert.ok(b.status === "known" && b.clearance.encoding === "xml");
      const c = await store.getUserClearance("carol@example.mil", "1.3.6.1.4.1.99999.2.1");
      assert.ok(c.status === "known" && c.clearance.encoding === "ber");
    } finally {
      await store.close();
    }
  });

  test("get, list and rm", async () => {
    const got = await cordon(["clearance", "get", "alice@example.mil", "--policy", POLICY], env);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout.trim(), `alice@example.mil: ${ALL_OKAY_MARKING}`);
    const raw = await cordon(["clearance", "get", "alice@example.mil"], env);
    assert.match(raw.stdout, /BER clearance, \d+ bytes/);
    const list = await cordon(["clearance", "list", "--policy", POLICY], env);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(
      list.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("\t")[0]),
      ["alice@example.mil", "bob@example.mil", "carol@example.mil [1.3.6.1.4.1.99999.2.1]"],
    );
    const rm = await cordon(["clearance", "rm", "ALICE@example.mil"], env);
    assert.equal(rm.status, 0);
    const rmAgain = await cordon(["clearance", "rm", "alice@example.mil"], env);
    assert.equal(rmAgain.status, 1);
    const none = await cordon(["clearance", "get", "alice@example.mil"], env);
    assert.equal(none.status, 1);
    assert.match(none.stdout, /no clearance/);
  });

  test("bad input is refused with one line and exit status 2, and nothing is stored", async () => {
    const label = await cordon(
      ["clearance", "set", "x@example.mil", `${CORPUS}/harbour-label-customs.xml`, "--policy", POLICY],
      env,
    );
    assert.equal(label.status, 2);
    assert.equal(label.stderr.trim().split("\n").length, 1);
    const badJid = await cordon(
      ["clearance", "set", "x@y@example.mil", `${CORPUS}/harbour-clearance-officer.ber`, "--policy", POLICY],
      env,
    );
    assert.equal(badJid.status, 2);
    assert.match(badJid.stderr, /invalid bare JID/);
    const usage = await cordon(["clearance", "frobnicate"], env);
    assert.equal(usage.status, 2);
    const list = await cordon(["clearance", "list"], env);
    assert.doesNotMatch(list.stdout, /x@/);
  });

  test("requires Redis and says so; an unreachable Redis is a clear error", async () => {
    const noStore = await cordon(["clearance", "list"], { REDIS_URL: undefined });
    assert.equal(noStore.status, 2);
    assert.match(noStore.stderr, /--redis URL or --config FILE, or set REDIS_URL/);
    const down = await cordon(["clearance", "list", "--redis", "redis://127.0.0.1:1"], {
      REDIS_URL: undefined,
    });
    assert.equal(down.status, 2);
    assert.match(down.stderr, /redis not reachable/);
  });
});
