// Room and catalog writes carry the deadline clearance writes carry (write-deadline.ts; session 15
// for clearances). Before (session 16): putRoom and setCatalog were MULTI transactions, setAffiliation
// and deleteRoom scripts without a deadline — a write reported failed (command timeout) still landed
// when the path to Redis cleared, after a later change by another process: a room's label restored
// after its owner changed it, an outcast made owner again, a room recreated just after deleted again.
// Real redis-server; a proxy holds what process A sends on its main connection, then lets it go.
import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import { startRedis, subscriberDelay, type RedisInstance } from "@cordon/harness";
import { RedisStore, type RawLabel, type RoomRecord } from "../src/index.js";
import { eventually } from "./helpers.js";

const ROOM = "briefing@rooms.example.mil";
const HIGH: RawLabel = { encoding: "xml", data: "<high/>" };
const LOW: RawLabel = { encoding: "xml", data: "<low/>" };
const TIMEOUT_MS = 300;

const room = (label: RawLabel, affiliations: RoomRecord["affiliations"] = {}): RoomRecord => ({
  jid: ROOM,
  config: {},
  label,
  affiliations,
  persistent: true,
});

interface Kind {
  /** What A sends late (it times out). */
  late(s: RedisStore): Promise<unknown>;
  /** What B does meanwhile (it returns); also A's first write, before the path congests. */
  meanwhile(s: RedisStore): Promise<unknown>;
  /** What B reads at the end: what `meanwhile` left. */
  read(s: RedisStore): Promise<unknown>;
  expected: unknown;
}

const KINDS: Record<string, Kind> = {
  "room configuration (putRoom)": {
    late: (s) => s.putRoom(room(HIGH)),
    meanwhile: (s) => s.putRoom(room(LOW)),
    read: async (s) => (await s.getRoom(ROOM))?.label?.data,
    expected: LOW.data,
  },
  "affiliation (setAffiliation)": {
    late: (s) => s.setAffiliation(ROOM, "eve@example.mil", "owner"),
    meanwhile: async (s) => {
      await s.putRoom(room(LOW));
      return s.setAffiliation(ROOM, "eve@example.mil", "outcast");
    },
    read: async (s) => (await s.getRoom(ROOM))?.affiliations["eve@example.mil"],
    expected: "outcast",
  },
  "room deletion (deleteRoom)": {
    late: (s) => s.deleteRoom(ROOM),
    meanwhile: (s) => s.putRoom(room(LOW)),
    read: async (s) => (await s.getRoom(ROOM))?.label?.data ?? "deleted",
    expected: LOW.data,
  },
  "room catalog (setCatalog)": {
    late: (s) => s.setCatalog({ kind: "room", jid: ROOM }, '{"items":["late"]}'),
    meanwhile: (s) => s.setCatalog({ kind: "room", jid: ROOM }, '{"items":[]}'),
    read: (s) => s.getCatalog({ kind: "room", jid: ROOM }),
    expected: '{"items":[]}',
  },
};

describe("RedisStore: a room or catalog write reported failed never lands later", () => {
  let redis: RedisInstance | undefined;
  after(async () => redis?.stop());

  for (const [name, kind] of Object.entries(KINDS)) {
    test(`${name}: a write that timed out does not undo a later change`, async () => {
      redis ??= await startRedis();
      const proxy = await subscriberDelay(redis.port);
      const prefix = `late-room-${name.split(" ")[0]}:`;
      const a = new RedisStore({ url: proxy.url, prefix, commandTimeoutMs: TIMEOUT_MS });
      const b = new RedisStore({ url: redis.url, prefix });
      try {
        await Promise.all([a.ready(), b.ready()]);
        await kind.meanwhile(a); // (A has measured Redis's clock)
        proxy.holdRequests();
        await assert.rejects(kind.late(a), /failed/u, "A's write is reported failed");
        await kind.meanwhile(b); // the owner changes it again, through another process
        proxy.release();
        // What A sent arrives now: it must not be applied.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await kind.read(b), kind.expected, "the later change stands");
        // A writes again once its path is clear.
        await eventually(async () => {
          await kind.late(a);
          return true;
        }, "a write through A again");
        assert.notEqual(await kind.read(b), kind.expected, "A's write, sent in time, is applied");
      } finally {
        proxy.close();
        await a.close();
        await b.close();
      }
    });
  }

  test("a room with 3,000 affiliations is stored whole (the script writes them in chunks)", async () => {
    redis ??= await startRedis();
    const s = new RedisStore({ url: redis.url, prefix: "late-room-many:" });
    try {
      await s.ready();
      const affiliations: RoomRecord["affiliations"] = {};
      for (let i = 0; i < 3000; i++) affiliations[`m${i}@example.mil`] = i % 2 === 0 ? "member" : "outcast";
      await s.putRoom(room(LOW, affiliations));
      assert.deepEqual((await s.getRoom(ROOM))?.affiliations, affiliations);
      await s.putRoom(room(LOW, { "o@example.mil": "owner" }));
      assert.deepEqual((await s.getRoom(ROOM))?.affiliations, { "o@example.mil": "owner" });
    } finally {
      await s.close();
    }
  });
});
