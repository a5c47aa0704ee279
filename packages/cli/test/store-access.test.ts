// Where the admin commands (`cordon clearance`, `cordon peer`) find the store: --redis URL, or the
// config file's store.redis (--config FILE, read as `cordon start` reads it: one Redis or Sentinel),
// else $REDIS_URL, else $CORDON_CONFIG (commands/store-access.ts).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis, startRedisSentinel, type RedisInstance, type RedisSentinel } from "@cordon/harness";
import { RedisStore } from "@cordon/store";
import { storeOptions } from "../src/commands/store-access.js";
import { parseArgs } from "../src/commands/io.js";
import { cordon, CORPUS } from "./cli-helpers.js";

const POLICY = `${CORPUS}/harbour-policy.xml`;
const args = (...a: string[]) => parseArgs(a, ["redis", "prefix", "config"]);

describe("the admin commands' store from a config file", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cordon-store-access-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const config = (name: string, store: string): string => {
    const file = join(dir, name);
    writeFileSync(
      file,
      `policies: [policy.xml]\n${store}components: { example: { domain: echo.example.mil, secret: s } }\n`,
    );
    return file;
  };

  test("--config reads store.redis like cordon start: sentinels, master group, password, prefix", () => {
    const file = config(
      "sentinel.yaml",
      `store:
  redis:
    sentinels: ["10.0.0.1:26379", { host: 10.0.0.2, port: 26380 }]
    sentinelName: cordon
    password: { env: T_STORE_PW }
    prefix: "site:"
`,
    );
    process.env.T_STORE_PW = "primary-pw";
    try {
      assert.deepEqual(storeOptions(args("--config", file), {}), {
        sentinels: [
          { host: "10.0.0.1", port: 26379 },
          { host: "10.0.0.2", port: 26380 },
        ],
        sentinelName: "cordon",
        prefix: "site:",
        redisOptions: { password: "primary-pw" },
      });
      // $CORDON_CONFIG when nothing else names the store; $REDIS_URL wins over it.
      assert.equal(storeOptions(args(), { CORDON_CONFIG: file }).sentinelName, "cordon");
      assert.deepEqual(storeOptions(args(), { CORDON_CONFIG: file, REDIS_URL: "redis://h:1" }), {
        url: "redis://h:1",
      });
    } finally {
      delete process.env.T_STORE_PW;
    }
  });

  test("--redis keeps working (prefix from --prefix or $CORDON_REDIS_PREFIX); conflicting or missing stores are refused", () => {
    assert.deepEqual(storeOptions(args("--redis", "redis://h:1/2"), { CORDON_REDIS_PREFIX: "p:" }), {
      url: "redis://h:1/2",
      prefix: "p:",
    });
    const file = config("url.yaml", `store: { redis: { url: "redis://h:2" } }\n`);
    assert.throws(() => storeOptions(args("--redis", "redis://h:1", "--config", file), {}), /not both/);
    assert.throws(() => storeOptions(args("--config", file, "--prefix", "x:"), {}), /store\.redis\.prefix/);
    const memory = config("memory.yaml", "");
    assert.throws(() => storeOptions(args("--config", memory), {}), /has no store\.redis/);
    assert.throws(() => storeOptions(args(), {}), /--redis URL or --config FILE/);
    const broken = config("broken.yaml", `store: { redis: { url: "redis://h:2", sentinelName: x } }\n`);
    assert.throws(
      () => storeOptions(args("--config", broken), {}),
      (e: Error & { code?: string }) =>
        e.code === "CORDON_CONFIG_INVALID" && /only with sentinels/.test(e.message),
    );
  });

  describe("against a real Redis through a real Sentinel", () => {
    let redis: RedisInstance;
    let sentinel: RedisSentinel;
    before(async () => {
      redis = await startRedis();
      sentinel = await startRedisSentinel(redis, "cordon");
    });
    after(async () => {
      await sentinel?.stop();
      await redis?.stop();
    });

    test("cordon clearance set/get and cordon peer set with --config FILE naming the sentinel", async () => {
      const file = config(
        "live.yaml",
        `store:
  redis:
    sentinels: ["127.0.0.1:${sentinel.port}"]
    sentinelName: cordon
    prefix: "viacfg:"
`,
      );
      const set = await cordon(
        [
          "clearance",
          "set",
          "alice@example.mil",
          `${CORPUS}/harbour-clearance-officer.ber`,
          "--policy",
          POLICY,
          "--config",
          file,
        ],
        { REDIS_URL: "", CORDON_CONFIG: "" },
      );
      assert.equal(set.status, 0, set.stderr);
      const get = await cordon(["clearance", "get", "alice@example.mil", "--config", file], {
        REDIS_URL: "",
      });
      assert.equal(get.status, 0, get.stderr);
      assert.match(get.stdout, /^alice@example\.mil: /m);
      const peer = await cordon(
        [
          "peer",
          "set",
          "partner.example",
          "inbound",
          `${CORPUS}/harbour-clearance-officer.ber`,
          "--policy",
          POLICY,
          "--config",
          file,
        ],
        { REDIS_URL: "" },
      );
      assert.equal(peer.status, 0, peer.stderr);
      // What the CLI wrote is in that Redis, under the config's prefix.
      const store = new RedisStore({ url: redis.url, prefix: "viacfg:" });
      try {
        await store.ready(3000);
        assert.equal((await store.getUserClearance("alice@example.mil")).status, "known");
      } finally {
        await store.close();
      }
      const noStore = await cordon(["clearance", "list", "--config", config("mem.yaml", "")], {
        REDIS_URL: "",
      });
      assert.equal(noStore.status, 2);
      assert.match(noStore.stderr, /has no store\.redis/);
    });
  });
});
