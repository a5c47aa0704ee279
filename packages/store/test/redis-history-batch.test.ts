// RedisStore's batched history appends against a real redis-server: the lists equal what one append
// per call leaves, under concurrency; a failed batch rejects its callers; a refused room fails alone.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Redis } from "ioredis";
import { startRedis } from "@cordon/harness";
import { RedisStore, StoreUnavailableError } from "../src/index.js";

/** A deterministic pseudo-random sequence (the lists are compared run to run). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

interface Op {
  room: string;
  entry: string;
  cap: number;
}

function workload(n: number, seed: number): Op[] {
  const rand = rng(seed);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const room = `r${Math.floor(rand() * 6)}@rooms.example.mil`;
    // Mostly one cap per room, sometimes another (a reconfigured room): the trims between must stay.
    const cap = rand() < 0.1 ? 3 + Math.floor(rand() * 5) : 40;
    const entry = `${i}:${"é".repeat(Math.floor(rand() * 300))}`;
    ops.push({ room, entry, cap });
  }
  return ops;
}

/** Stores the rooms' records: history is kept only for a stored room (RoomNotStoredError). */
async function stored(store: RedisStore, ...rooms: string[]): Promise<void> {
  for (const jid of rooms) await store.putRoom({ jid, config: {}, affiliations: {}, persistent: true });
}

/** Runs the ops in bursts: each burst called in one turn, not awaited, then the next burst. */
async function drive(store: RedisStore, ops: readonly Op[], seed: number): Promise<void> {
  const rand = rng(seed);
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < ops.length;) {
    const burst = 1 + Math.floor(rand() * 120);
    for (const op of ops.slice(i, i + burst))
      pending.push(store.appendRoomHistory(op.room, op.entry, op.cap));
    i += burst;
    if (rand() < 0.5) await new Promise<void>((r) => setImmediate(r));
  }
  await Promise.all(pending);
}

/** What one RPUSH + LTRIM per append, in call order, leaves. */
function model(ops: readonly Op[]): Map<string, string[]> {
  const lists = new Map<string, string[]>();
  for (const op of ops) {
    const l = lists.get(op.room) ?? [];
    l.push(op.entry);
    lists.set(op.room, l.slice(-op.cap));
  }
  return lists;
}

async function evalCalls(raw: Redis): Promise<number> {
  const stats = await raw.info("commandstats");
  return Number(/^cmdstat_eval:calls=(\d+)/mu.exec(stats)?.[1] ?? 0);
}

describe("RedisStore history appends, batched", () => {
  test("under concurrency the lists equal one append per call (and fewer calls reach Redis)", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    // One append per call: the path before batching (each entry its own RPUSH + LTRIM).
    const single = new RedisStore({ url: r.url, prefix: "one:", historyBatch: { maxEntries: 1 } });
    const batched = new RedisStore({ url: r.url, prefix: "many:" });
    // Small bounds, so batches are cut in the middle of bursts.
    const bounded = new RedisStore({
      url: r.url,
      prefix: "cut:",
      historyBatch: { maxEntries: 7, maxBytes: 2000 },
    });
    try {
      await Promise.all([single.ready(), batched.ready(), bounded.ready()]);
      const rooms = Array.from({ length: 6 }, (_, i) => `r${i}@rooms.example.mil`);
      for (const st of [single, batched, bounded]) await stored(st, ...rooms);
      const ops = workload(3000, 19);
      const expected = model(ops);
      const calls0 = await evalCalls(raw);
      await drive(single, ops, 5);
      const calls1 = await evalCalls(raw);
      await drive(batched, ops, 5);
      const calls2 = await evalCalls(raw);
      await drive(bounded, ops, 7);
      for (const [room, list] of expected) {
        assert.deepEqual(await single.getRoomHistory(room), list, `one-at-a-time ${room}`);
        assert.deepEqual(await batched.getRoomHistory(room), list, `batched ${room}`);
        assert.deepEqual(await bounded.getRoomHistory(room), list, `bounded batches ${room}`);
      }
      assert.ok(calls1 - calls0 >= ops.length - 1, `one at a time: ${calls1 - calls0} calls`);
      assert.ok(calls2 - calls1 < ops.length / 10, `batched: ${calls2 - calls1} calls for ${ops.length}`);
    } finally {
      await Promise.all([single.close(), batched.close(), bounded.close()]);
      raw.disconnect();
      await r.stop();
    }
  });

  test("a command after appends in the same turn follows them (deleteRoom leaves no history; a read sees them)", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    const s = new RedisStore({ url: r.url, prefix: "o:" });
    try {
      await s.ready();
      const room = "gone@rooms.example.mil";
      await s.putRoom({ jid: room, config: {}, affiliations: {}, persistent: true });
      const appended = [s.appendRoomHistory(room, "1"), s.appendRoomHistory(room, "2")];
      const read = s.getRoomHistory(room);
      const deleted = s.deleteRoom(room);
      await Promise.all(appended);
      assert.deepEqual(await read, ["1", "2"]);
      assert.equal(await deleted, true);
      // A batch left waiting past the delete would have recreated the history of a deleted room.
      assert.equal(await raw.exists("o:room:gone@rooms.example.mil:history"), 0);
    } finally {
      await s.close();
      raw.disconnect();
      await r.stop();
    }
  });

  test("a script cache emptied under the connection (SCRIPT FLUSH) lets no later command overtake the appends", async () => {
    // adv49: sent by EVALSHA, the batch was answered NOSCRIPT and sent again by ioredis after the
    // deleteRoom written meanwhile: the deleted room's history came back, and a read missed the append.
    const r = await startRedis();
    const raw = new Redis(r.url);
    const s = new RedisStore({ url: r.url, prefix: "f:" });
    try {
      await s.ready();
      const room = "flushed@rooms.example.mil";
      await s.putRoom({ jid: room, config: {}, affiliations: {}, persistent: true });
      await s.appendRoomHistory(room, "0"); // the script is known on this connection now
      await raw.script("FLUSH");
      const appended = s.appendRoomHistory(room, "1");
      const read = s.getRoomHistory(room);
      const deleted = s.deleteRoom(room);
      await appended;
      assert.deepEqual(await read, ["0", "1"]);
      assert.equal(await deleted, true);
      assert.equal(await raw.exists("f:room:flushed@rooms.example.mil:history"), 0);
      // Order across batches of one room holds too.
      await stored(s, "ord@rooms.example.mil");
      await raw.script("FLUSH");
      const first = s.appendRoomHistory("ord@rooms.example.mil", "a");
      await new Promise<void>((res) => setImmediate(res));
      const between = s.getRoomHistory("ord@rooms.example.mil");
      await Promise.all([first, s.appendRoomHistory("ord@rooms.example.mil", "b")]);
      assert.deepEqual(await between, ["a"]);
    } finally {
      await s.close();
      raw.disconnect();
      await r.stop();
    }
  });

  test("a failed batch hands no caller the batch's entries (the error's cause carries no command arguments)", async () => {
    // adv49: the ioredis reply error, the cause of every caller's error, held the whole EVAL's
    // arguments: the caller of room A held room B's messages.
    const r = await startRedis();
    const raw = new Redis(r.url);
    const s = new RedisStore({ url: r.url, prefix: "n:" });
    try {
      await s.ready();
      await raw.call("ACL", "SETUSER", "default", "-eval"); // the whole call refused
      const results = await Promise.allSettled([
        s.appendRoomHistory("a@rooms.example.mil", "entry of room a"),
        s.appendRoomHistory("b@rooms.example.mil", "entry of room b"),
      ]);
      for (const x of results) {
        assert.ok(x.status === "rejected" && x.reason instanceof StoreUnavailableError);
        const shown = inspect(x.reason, { depth: 20, showHidden: true });
        assert.ok(!shown.includes("entry of room"), "no entry in the error or its causes");
      }
    } finally {
      await raw.call("ACL", "SETUSER", "default", "+eval");
      await s.close();
      raw.disconnect();
      await r.stop();
    }
  });

  test("a room Redis refuses (not a list) fails its callers alone; the batch's other rooms are stored", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    const s = new RedisStore({ url: r.url, prefix: "p:" });
    try {
      await s.ready();
      await stored(s, "a@rooms.example.mil", "bad@rooms.example.mil", "c@rooms.example.mil");
      await raw.set("p:room:bad@rooms.example.mil:history", "not a list");
      const results = await Promise.allSettled([
        s.appendRoomHistory("a@rooms.example.mil", "a1"),
        s.appendRoomHistory("bad@rooms.example.mil", "b1"),
        s.appendRoomHistory("c@rooms.example.mil", "c1"),
        s.appendRoomHistory("bad@rooms.example.mil", "b2"),
        s.appendRoomHistory("a@rooms.example.mil", "a2"),
      ]);
      assert.deepEqual(
        results.map((x) => x.status),
        ["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"],
      );
      const refused = results[1];
      assert.ok(refused?.status === "rejected" && refused.reason instanceof StoreUnavailableError);
      assert.deepEqual(await s.getRoomHistory("a@rooms.example.mil"), ["a1", "a2"]);
      assert.deepEqual(await s.getRoomHistory("c@rooms.example.mil"), ["c1"]);
      assert.equal(await raw.get("p:room:bad@rooms.example.mil:history"), "not a list");
    } finally {
      await s.close();
      raw.disconnect();
      await r.stop();
    }
  });

  test("Redis killed while a batch is in flight: every caller of it is rejected, later appends too", async () => {
    const r = await startRedis();
    const raw = new Redis(r.url);
    const s = new RedisStore({ url: r.url, prefix: "k:", maxReconnectDelayMs: 200 });
    try {
      await s.ready();
      await stored(s, "a@rooms.example.mil", "b@rooms.example.mil", "c@rooms.example.mil");
      // Hold scripts at the server (CLIENT PAUSE WRITE holds EVALSHA), so the batch is sent but
      // unanswered when the server dies.
      await raw.call("CLIENT", "PAUSE", "10000", "WRITE");
      const settled: string[] = [];
      const batch = ["a", "b", "a", "c", "a"].map((room, i) =>
        s.appendRoomHistory(`${room}@rooms.example.mil`, String(i)).then(
          () => settled.push("stored"),
          (err: unknown) => {
            settled.push(err instanceof StoreUnavailableError ? "unavailable" : String(err));
          },
        ),
      );
      await new Promise<void>((res) => setTimeout(res, 200));
      assert.deepEqual(settled, [], "the batch is in flight, held by the server");
      await r.kill();
      await Promise.all(batch);
      assert.deepEqual(settled, ["unavailable", "unavailable", "unavailable", "unavailable", "unavailable"]);
      await assert.rejects(s.appendRoomHistory("a@rooms.example.mil", "later"), StoreUnavailableError);
      // Back: appends work again (Redis restarted empty: nothing of the failed batch is claimed).
      await r.restart();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await stored(s, "a@rooms.example.mil"); // (restarted empty)
          await s.appendRoomHistory("a@rooms.example.mil", "after");
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise<void>((res) => setTimeout(res, 50));
        }
      }
      assert.deepEqual(await s.getRoomHistory("a@rooms.example.mil"), ["after"]);
    } finally {
      await s.close();
      raw.disconnect();
      await r.stop();
    }
  });
});
