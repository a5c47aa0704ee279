import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, type RedisInstance } from "@cordon/harness";
import { RedisStore } from "@cordon/store";
import { cordon, CORPUS } from "./cli-helpers.js";

const POLICY = `${CORPUS}/harbour-policy.xml`;

describe("cordon peer against a real Redis", () => {
  let redis: RedisInstance;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test("set both directions, get, list, rm one direction; a running store client is notified", async () => {
    const store = new RedisStore({ url: redis.url });
    await store.ready();
    const seen: string[] = [];
    store.subscribe((e) => {
      if (e.kind === "peer-clearance") seen.push(`${e.domain} ${e.direction}`);
    });
    try {
      const set = await cordon([
        "peer",
        "set",
        "Peer.Example",
        "both",
        `${CORPUS}/harbour-clearance-officer.xml`,
        "--policy",
        POLICY,
        "--redis",
        redis.url,
      ]);
      assert.equal(set.status, 0, set.stderr);
      assert.deepEqual(
        set.stdout
          .trim()
          .split("\n")
          .map((l) => l.split(":")[0]),
        ["peer.example inbound", "peer.example outbound"],
      );
      const get = await cordon([
        "peer",
        "get",
        "peer.example",
        "outbound",
        "--policy",
        POLICY,
        "--redis",
        redis.url,
      ]);
      assert.equal(get.status, 0, get.stderr);
      assert.match(get.stdout, /^peer\.example outbound: \| \{CREW\|OFFICERS\}/);
      const list = await cordon(["peer", "list", "--redis", redis.url]);
      assert.deepEqual(
        list.stdout
          .trim()
          .split("\n")
          .map((l) => l.split("\t").slice(0, 2).join(" ")),
        ["peer.example inbound", "peer.example outbound"],
      );
      const rm = await cordon(["peer", "rm", "peer.example", "inbound", "--redis", redis.url]);
      assert.equal(rm.status, 0);
      assert.equal((await store.getPeerClearance("peer.example", "inbound")).status, "none");
      assert.equal((await store.getPeerClearance("peer.example", "outbound")).status, "known");
      const deadline = Date.now() + 5000;
      while (
        !(seen.includes("peer.example inbound") && seen.includes("peer.example outbound")) &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(
        seen.includes("peer.example inbound") && seen.includes("peer.example outbound"),
        JSON.stringify(seen),
      );
      const bad = await cordon(["peer", "rm", "peer.example", "sideways", "--redis", redis.url]);
      assert.equal(bad.status, 2);
    } finally {
      await store.close();
    }
  });
});
