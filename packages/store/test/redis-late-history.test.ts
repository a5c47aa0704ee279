// A history append that reaches Redis after its room was deleted (session 17; issue 19). Appends are
// batched and carry no deadline (a late entry only adds to a history), but an append sent before
// another process deleted the room — held on the way — used to recreate the deleted room's history
// list: nobody listed it, and whoever next created a room of that JID was given it (the MUC loads a
// stored room's history). Now the append script refuses a room whose record is gone
// (RoomNotStoredError), checked inside the script. Real redis-server; a proxy holds what process A
// sends on its main connection, then lets it go.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { RedisStore } from "../src/index.js";

const ROOM = "debrief@rooms.example.mil";
let redis: RedisInstance | undefined;
after(async () => redis?.stop());

test("an append held on the way while another process deletes the room does not recreate its history", async () => {
  redis = await startRedis();
  const proxy = await subscriberDelay(redis.port);
  const raw = new Redis(redis.url);
  const a = new RedisStore({ url: proxy.url, prefix: "late-hist:", commandTimeoutMs: 300 });
  const b = new RedisStore({ url: redis.url, prefix: "late-hist:" });
  try {
    await Promise.all([a.ready(), b.ready()]);
    await b.putRoom({ jid: ROOM, config: {}, affiliations: {}, persistent: true });
    await a.appendRoomHistory(ROOM, "before");
    proxy.holdRequests();
    const late = a.appendRoomHistory(ROOM, "late").then(
      () => "stored",
      (err: Error & { code?: string }) => err.code ?? err.message,
    );
    assert.equal(await b.deleteRoom(ROOM), true); // deleted meanwhile, through another process
    proxy.release();
    // A's next command on the same connection runs after the held append: once it answers, the
    // append has reached Redis.
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; ; i++) {
      try {
        await a.getRoomHistory(ROOM);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const outcome = await late;
    const left = await raw.lrange(`late-hist:room:${ROOM}:history`, 0, -1);
    console.log(`# late history append: caller ${outcome}; history left ${JSON.stringify(left)}`);
    assert.deepEqual(left, [], "the deleted room's history was recreated by the late append");
    // Whoever next creates a room of that JID finds no history.
    await b.putRoom({ jid: ROOM, config: {}, affiliations: {}, persistent: true });
    assert.deepEqual(await b.getRoomHistory(ROOM), []);
  } finally {
    proxy.release();
    await a.close();
    await b.close();
    raw.disconnect();
    proxy.close();
  }
});
