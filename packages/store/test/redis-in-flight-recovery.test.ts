// Adversarial review adv54 of the in-flight byte bound (in-flight-bound.ts): a Redis stalled
// (SIGSTOP) and then lost (killed and started again on the same port, as after a crash or a
// failover) while commands are held. The bound must let the connection come back by itself.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "@cordon/harness";
import { InFlightBound, RedisMembership, RedisStore, StoreUnavailableError } from "../src/index.js";
import { BER_ALL_OKAY, eventually } from "./helpers.js";

describe("the in-flight bound after a stalled Redis is lost and comes back", () => {
  // The membership's connection retries a request once (maxRetriesPerRequest 1): ioredis keeps what
  // the closed connection held (its prevCommandQueue, not flushed) to send it again once ready. On
  // inflight11 those held beats stayed counted, so the next connection's own handshake (CLIENT
  // SETINFO, INFO) was refused by the bound; ioredis took that as fatal, reconnected, was refused
  // again — forever: the instance never beat again after Redis came back.
  test("cluster membership: beats held at the bound, Redis killed and restarted: it beats again by itself", async () => {
    const r = await startRedis();
    const m = new RedisMembership({
      url: r.url,
      group: "rooms.example.mil",
      leaseMs: 300,
      maxInFlightBytes: 1024,
    });
    try {
      await m.beat("a", 1);
      r.pause();
      // The beat (its ~1.6 KB script) goes alone and is held: every other beat is refused at once.
      const held = m.beat("a", 1).catch((err: unknown) => err);
      await assert.rejects(m.beat("a", 1), StoreUnavailableError);
      assert.ok((await held) instanceof Error, "the held beat timed out for its caller");
      await r.restart(); // SIGKILL of the stopped server, started again empty on the same port
      await eventually(
        async () => (await m.beat("a", 2).catch(() => undefined))?.get("a") === 2,
        "membership beats again",
        10_000,
      );
    } finally {
      await m.close();
      await r.stop();
    }
  });

  // close() sends QUIT; at the bound it was refused at once, never written, and the connection stayed
  // open (reconnecting after every loss) for the life of the process after the membership was closed.
  test("cluster membership closed while Redis is stalled at the bound: its connection is gone", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    const m = new RedisMembership({
      url: r.url,
      group: "rooms.example.mil",
      leaseMs: 300,
      maxInFlightBytes: 1024,
    });
    try {
      await m.beat("a", 1);
      const clients = async (): Promise<number> =>
        String(await raw.client("LIST"))
          .trim()
          .split("\n").length;
      assert.equal(await clients(), 2);
      r.pause();
      const held = m.beat("a", 1).catch((err: unknown) => err);
      assert.ok((await held) instanceof Error, "the held beat timed out for its caller");
      await m.close();
      r.resume();
      await eventually(async () => (await clients()) === 1, "only the test's own connection left", 3000);
    } finally {
      r.resume();
      await m.close();
      raw.disconnect();
      await r.stop();
    }
  });

  // A clean stop leaves (drops the lease) after the beats sent before it (adv44). At the bound the leave
  // was refused at once: the beat held before it landed once Redis ran again and renewed the lease of a
  // stopped instance for a whole lease, with no leave after it.
  test("cluster membership: a leave while beats are held at the bound still goes after them", async () => {
    const r = await startRedis();
    const m = new RedisMembership({
      url: r.url,
      group: "rooms.example.mil",
      leaseMs: 2000,
      maxInFlightBytes: 1024,
    });
    const watcher = new RedisMembership({ url: r.url, group: "rooms.example.mil", leaseMs: 2000 });
    try {
      await m.beat("a", 1);
      r.pause();
      const held = m.beat("a", 1).catch((err: unknown) => err);
      const left = m.leave("a").catch((err: unknown) => err);
      await new Promise((res) => setTimeout(res, 200));
      r.resume();
      await left;
      await held;
      const live = await watcher.beat("", undefined);
      assert.equal(live.has("a"), false, "the stopped instance holds no lease");
    } finally {
      r.resume();
      await m.close();
      await watcher.close();
      await r.stop();
    }
  });

  // The store fails its requests at the first close (maxRetriesPerRequest 0): the count goes back
  // to 0 with the connection, and the store answers again without a restart.
  test("store: commands held at the bound, Redis killed and restarted: counter back to 0, answers again", async () => {
    const r = await startRedis();
    const store = new RedisStore({
      url: r.url,
      maxInFlightBytes: 4096,
      commandTimeoutMs: 300,
      cacheTtlMs: 0,
    });
    try {
      await store.ready();
      await store.setUserClearance("u@example.mil", BER_ALL_OKAY);
      await store.putRoom({ jid: "r@rooms.example.mil", config: {}, affiliations: {}, persistent: true });
      r.pause();
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 40; i++)
        calls.push(
          store
            .appendRoomHistory("r@rooms.example.mil", `${i}:${"x".repeat(500)}`, 100)
            .catch((e: unknown) => e),
        );
      const looks = await Promise.all(
        Array.from({ length: 10 }, () => store.getUserClearance("u@example.mil")),
      );
      assert.ok(
        looks.every((l) => l.status === "unknown"),
        "a refused lookup is unknown, never none/known",
      );
      const errs = await Promise.all(calls);
      assert.ok(errs.every((e) => e instanceof StoreUnavailableError));
      assert.ok(store.inFlight().main.bytes > 0, "commands held while Redis is stopped");
      await r.restart();
      await eventually(() => store.inFlight().main.bytes === 0, "nothing counted after the close");
      await eventually(
        async () => {
          await store.setUserClearance("u@example.mil", BER_ALL_OKAY); // (the restarted Redis is empty)
          return (await store.getUserClearance("u@example.mil")).status === "known";
        },
        "store answers again",
        10_000,
      );
      assert.equal(store.inFlight().main.commands, 0);
      // (The subscriber PINGs every notificationLagMs / 4 — notification-barrier.ts: one may be in
      // flight at any instant; the count must come back to 0, not stay stuck.)
      await eventually(() => store.inFlight().subscriber.commands === 0, "subscriber count back to 0");
    } finally {
      r.resume();
      await store.close();
      await r.stop();
    }
  });
});

describe("the in-flight bound counts what is written", () => {
  // On inflight11 only the arguments' bytes were counted: a command of 100 one-byte arguments counted
  // 106 bytes and wrote 724 (RESP framing), so a 4 KiB bound let ~27 KiB be written and held.
  test("many short arguments: what Redis receives of the held commands stays under the bound", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    const c = new Redis(r.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const bound = new InFlightBound(c, { maxBytes: 4096, timeoutMs: 200, what: "test" });
    try {
      await eventually(async () => (await c.ping()) === "PONG", "connected");
      const stats = async (): Promise<number> =>
        Number(/^total_net_input_bytes:(\d+)/mu.exec(await raw.info("stats"))?.[1] ?? NaN);
      const before = await stats();
      r.pause();
      const args = Array.from({ length: 100 }, () => "a");
      const sent = Array.from({ length: 60 }, () => c.rpush("k", ...args).catch((e: unknown) => e));
      const outcomes = await Promise.all(sent);
      assert.ok(outcomes.every((o) => o instanceof Error));
      assert.ok(bound.refused > 0, "some were refused");
      r.resume();
      await eventually(() => bound.heldCommands === 0, "held commands answered");
      // (minus this INFO's own 25 bytes: "*2\r\n$4\r\ninfo\r\n$5\r\nstats\r\n")
      const received = (await stats()) - before - 25;
      assert.ok(
        received <= 4096,
        `Redis received ${received} bytes of commands held under a 4096-byte bound`,
      );
      assert.equal(await c.llen("k"), (received / 724) * 100, "whole commands only");
    } finally {
      r.resume();
      c.disconnect();
      raw.disconnect();
      await r.stop();
    }
  });
});
