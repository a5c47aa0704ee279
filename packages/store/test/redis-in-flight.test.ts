// The byte bound on commands a Redis connection holds unanswered (in-flight-bound.ts), against a real
// redis-server stopped with SIGSTOP: the connection stays up and nothing is answered. Appends and reads
// keep coming; what the process hands to the connection stays under the bound (measured by Redis
// itself after SIGCONT: every byte ioredis held is then received), callers fail at once with
// StoreUnavailableError, and afterwards replies go to their own callers and histories keep call order.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "@cordon/harness";
import { InFlightBound, RedisMembership, RedisStore, StoreUnavailableError } from "../src/index.js";
import { BER_ALL_OKAY, eventually } from "./helpers.js";

const BOUND = 1024 * 1024;
const ROOM = "pause@rooms.example.mil";

async function netInput(raw: Redis): Promise<number> {
  const stats = await raw.info("stats");
  return Number(/^total_net_input_bytes:(\d+)/mu.exec(stats)?.[1] ?? NaN);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("RedisStore bounds the commands Redis has not answered", () => {
  test("Redis SIGSTOPped under appends and reads: held bytes stay under the bound, callers fail at once, all well after SIGCONT", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    const store = new RedisStore({
      url: r.url,
      maxInFlightBytes: BOUND,
      commandTimeoutMs: 400,
      cacheTtlMs: 0,
    });
    try {
      await store.ready();
      await store.setUserClearance("u@example.mil", BER_ALL_OKAY);
      await store.setCatalog({ kind: "domain", domain: "example.mil" }, "before");
      await store.putRoom({ jid: ROOM, config: {}, affiliations: {}, persistent: true });
      await store.appendRoomHistory(ROOM, "0:before", 100_000);
      const before = await netInput(raw);

      r.pause();
      const entry = "x".repeat(2048);
      let seq = 1;
      const outcomes: Array<Promise<{ ok: boolean; ms: number; unavailable: boolean }>> = [];
      const timed = (p: Promise<unknown>): Promise<{ ok: boolean; ms: number; unavailable: boolean }> => {
        const t0 = performance.now();
        return p.then(
          () => ({ ok: true, ms: performance.now() - t0, unavailable: false }),
          (err: unknown) => ({
            ok: false,
            ms: performance.now() - t0,
            unavailable: err instanceof StoreUnavailableError,
          }),
        );
      };
      let maxHeld = 0;
      const lookups: Array<Promise<string>> = [];
      const end = Date.now() + 2500;
      while (Date.now() < end) {
        for (let i = 0; i < 50; i++)
          outcomes.push(timed(store.appendRoomHistory(ROOM, `${seq++}:${entry}`, 100_000)));
        outcomes.push(timed(store.getRoomHistory(ROOM, 1)));
        lookups.push(store.getUserClearance("u@example.mil").then((l) => l.status));
        maxHeld = Math.max(maxHeld, store.inFlight().main.bytes);
        await turn();
      }
      const settled = await Promise.all(outcomes);
      const statuses = await Promise.all(lookups);
      const held = store.inFlight().main;
      // Nothing succeeded while Redis was stopped; every failure is the store's "unavailable".
      assert.equal(settled.filter((o) => o.ok).length, 0);
      assert.ok(
        settled.every((o) => o.unavailable),
        "every caller got StoreUnavailableError",
      );
      assert.ok(
        statuses.every((s) => s === "unknown"),
        "lookups fail closed",
      );
      // The bound held at every turn, and most callers were refused at once rather than after the timeout.
      assert.ok(maxHeld <= BOUND, `held ${maxHeld} bytes > bound ${BOUND}`);
      assert.ok(held.refused > 0, "commands were refused at once");
      const quick = settled.filter((o) => o.ms < 100).length;
      assert.ok(quick > settled.length / 2, `${quick} of ${settled.length} callers answered within 100 ms`);

      r.resume();
      // Every byte ioredis held is received once Redis runs again: bounded by the bound, plus the
      // calls sent before the pause and after it (the history read and the test's own INFO).
      await eventually(async () => (await store.getRoomHistory(ROOM, 1)).length === 1, "store answers again");
      await eventually(() => store.inFlight().main.commands === 0, "nothing held");
      const received = (await netInput(raw)) - before;
      assert.ok(received <= BOUND + 64 * 1024, `Redis received ${received} bytes sent during the pause`);

      // Replies go to their own callers: many different reads at once, each answered with its own value.
      const scopes = Array.from({ length: 200 }, (_, i) => ({
        kind: "domain" as const,
        domain: `d${i}.example.mil`,
      }));
      await Promise.all(scopes.map((s, i) => store.setCatalog(s, `catalog ${i}`)));
      const read = await Promise.all(scopes.map((s) => store.getCatalog(s)));
      read.forEach((v, i) => assert.equal(v, `catalog ${i}`));
      assert.equal(await store.getCatalog({ kind: "domain", domain: "example.mil" }), "before");
      assert.equal((await store.getUserClearance("u@example.mil")).status, "known");

      // Call order kept: what landed of the paused appends is in call order, and later appends follow it.
      await store.appendRoomHistory(ROOM, `${seq}:after`, 100_000);
      const history = (await store.getRoomHistory(ROOM)).map((e) => Number(e.slice(0, e.indexOf(":"))));
      for (let i = 1; i < history.length; i++)
        assert.ok(history[i]! > history[i - 1]!, "history in call order");
      assert.equal(history.at(-1), seq);
      // A deleteRoom after an append in the same turn still follows it.
      void store.appendRoomHistory(ROOM, `${seq + 1}:gone`, 100_000);
      assert.equal(await store.deleteRoom(ROOM), true);
      assert.deepEqual(await store.getRoomHistory(ROOM), []);
    } finally {
      r.resume();
      await store.close();
      raw.disconnect();
      await r.stop();
    }
  });

  test("the cluster membership connection is bounded too: beats past it are refused at once", async () => {
    const r = await startRedis();
    const m = new RedisMembership({
      url: r.url,
      group: "rooms.example.mil",
      leaseMs: 300,
      maxInFlightBytes: 4096,
    });
    try {
      await m.beat("a", 1);
      r.pause();
      const t0 = Date.now();
      const beats: Array<Promise<unknown>> = [];
      // Each beat sends the lease script (~1.6 KB): the third is refused at once while two wait.
      for (let i = 0; i < 20; i++) beats.push(m.beat("a", 1).catch((err: unknown) => err));
      const errors = await Promise.all(beats);
      assert.ok(errors.filter((e) => e instanceof StoreUnavailableError).length >= 17);
      assert.ok(Date.now() - t0 < 2000);
      r.resume();
      await eventually(async () => (await m.beat("a", 1)).get("a") === 1, "beats again");
    } finally {
      r.resume();
      await m.close();
      await r.stop();
    }
  });

  test("a pipeline or MULTI is admitted or refused whole: refused, none of it runs; replies stay matched after", async () => {
    const r = await startRedis();
    const c = new Redis(r.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const bound = new InFlightBound(c, { maxBytes: 2048, timeoutMs: 300, what: "test" });
    try {
      await eventually(async () => (await c.set("a", "1")) === "OK", "connected");
      r.pause();
      // 2,046 bytes held: nothing more fits under 2,048, not even MULTI's first command ("multi").
      const big = c.set("big", "x".repeat(2040)).catch((err: unknown) => err);
      // The pipeline's first command does not fit: every command of it is refused, none is written.
      const refused = await c.pipeline().set("k1", "y".repeat(600)).get("a").set("k2", "z").exec();
      assert.equal(refused?.length, 3);
      for (const [err] of refused ?? []) assert.ok(err instanceof StoreUnavailableError);
      await assert.rejects(c.multi().set("m", "1").get("a").exec());
      assert.equal(bound.heldCommands, 1, "only the SET admitted before is held");
      // A plain command that does not fit either.
      await assert.rejects(c.set("k3", "w".repeat(600)), StoreUnavailableError);
      assert.ok((await big) instanceof Error, "the held SET timed out for its caller");
      r.resume();
      await eventually(() => bound.heldCommands === 0, "the held SET answered");
      // Nothing of what was refused ran; replies go to their own commands.
      assert.deepEqual(await c.mget("k1", "k2", "m", "k3"), [null, null, null, null]);
      assert.equal((await c.get("big"))?.length, 2040, "the timed-out SET ran, in order");
      // A pipeline is decided on its first command: this one passes the bound by its own size.
      const res = await c.pipeline().get("a").set("z", "2".repeat(3000)).get("a").exec();
      assert.deepEqual(res, [
        [null, "1"],
        [null, "OK"],
        [null, "1"],
      ]);
      assert.deepEqual(await c.multi().incr("n").get("a").exec(), [
        [null, 1],
        [null, "1"],
      ]);
      assert.equal(bound.heldBytes, 0);
    } finally {
      r.resume();
      c.disconnect();
      await r.stop();
    }
  });
});
