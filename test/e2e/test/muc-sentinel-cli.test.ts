// Redis Sentinel failover under two clustered `cordon start` processes (issue 19 goal 5), on real
// Prosody and real ejabberd: the processes reach Redis through three real sentinels as an admin
// configures it (`store.redis.sentinels` + `sentinelName`, packages/cli/src/redis-config.ts), not
// through the store as a library (muc-sentinel-cluster covers that). The primary is SIGKILLed during
// labelled traffic and Sentinel promotes the replica (Redis docs, "High availability with Redis
// Sentinel"). Asserted: nobody gets a message above their clearance; every message sent during the
// failover is either delivered to its sender (XEP-0045 §7.4 reflection) or refused to it with an
// error carrying nothing of the message (RFC 6120 §8.3); both processes keep running; afterwards
// every room delivers again by itself, occupants still joined (XEP-0410 self-ping), and a clearance
// lowered on the new primary is enforced (bob never gets SECRET sent after it is applied).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startRedisSentinelSet,
  serverKinds,
  type Element,
  type RedisSentinelSet,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { NotDurableError, RedisMembership, RedisStore } from "@cordon/store";
import { ALL_CLASSES as ALL, loadDemo } from "../src/demo.js";
import { groupchat, seedClearances, selfPing, sleep, until } from "../src/muc-cluster-fixture.js";
import * as cluster from "../src/muc-cluster-fixture.js";
import { connectUsers } from "../src/muc-service-fixture.js";
import { spawnCordon, type SpawnedCordon } from "../src/cordon-process.js";

const demo = loadDemo();
const S = demo.label("SECRET");
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

for (const kind of serverKinds()) {
  describe(`two clustered cordon processes through a Redis Sentinel failover on ${kind}`, () => {
    const domain = `${kind}-scli.test`;
    const mucDomain = `rooms.${domain}`;
    const prefix = `scli-${kind}:`;
    const slots = kind === "ejabberd" ? 2 : 1;
    let server: XmppServer;
    let redis: RedisSentinelSet;
    let dir: string;
    const cordons: SpawnedCordon[] = [];
    const c: Record<string, TestClient> = {};
    const redisOptions = () => ({ sentinels: [...redis.sentinels], sentinelName: redis.name, prefix });
    const clear = (users: Record<string, readonly string[]>) =>
      seedClearances(demo, redisOptions(), domain, users);
    const config = (instance: string) =>
      cluster.writeClusterCliConfig(dir, instance, {
        server,
        domain,
        mucDomain,
        secret: "scli-secret",
        redis: { sentinels: redis },
        prefix,
        instance,
        slots,
      });

    before(async () => {
      redis = await startRedisSentinelSet({ name: `scli-${kind}`, replicas: 1, sentinels: 3 });
      await redis.waitForReplication();
      server = await cluster.startClusterServer(kind, domain, mucDomain, "scli-secret");
      await clear({ alice: ALL, bob: ALL, carol: ["UNCLASSIFIED"] });
      dir = cluster.policyDir("cordon-scli");
      await connectUsers(server, cluster.CLI_USERS, c);
    });

    after(() => cluster.stopClusterCli({ c, cordons, server, redis, dir }));

    test(`[${kind}] primary SIGKILLed during traffic: nothing above a clearance, senders told, every room back by itself`, async () => {
      const p1 = spawnCordon(config("s1"));
      cordons.push(p1);
      await until("s1 started", () => p1.log().includes("MUC cluster instance started"));
      const p2 = spawnCordon(config("s2"));
      cordons.push(p2);
      if (kind === "prosody")
        await until("s2 is the standby", () => p2.log().includes("standby: another instance holds"));
      else await until("s2 started", () => p2.log().includes("MUC cluster instance started"));
      if (kind === "ejabberd") {
        // Rooms entered only once the cluster settled: a room joined through s1's spare for s2's
        // slot (s1 covers it when s2 comes late) loses its occupants when the spare hands the slot
        // back — by design (XEP-0410 §3.2: they are told to rejoin), but not what this test is about.
        const membership = new RedisMembership({
          sentinels: [...redis.sentinels],
          sentinelName: redis.name,
          prefix: prefix.replace(/:$/u, ""),
          group: mucDomain,
        });
        try {
          await until("each process holds its one link, no spare", async () => {
            const live = Object.fromEntries(await membership.beat("", undefined));
            return live.s1 === 1 && live.s2 === 1;
          });
        } finally {
          await membership.close();
        }
      }
      const rooms = Array.from({ length: slots === 2 ? 6 : 2 }, (_, i) => `sc${i}@${mucDomain}`);
      await cluster.enterRooms(c, rooms);
      // Every occupant joined before the kill (a link still without its slot is redialled before
      // it received anything: its rooms are entered again), so "still joined" below means the failover kept them.
      await until("every room joined before the kill", async () => {
        const states = await Promise.all(rooms.map((r) => selfPing(c.carol!, `${r}/Carol`, 1500)));
        const lost = rooms.filter((_, i) => states[i] !== "joined");
        for (const room of lost) await cluster.enterRooms(c, [room]).catch(() => undefined);
        return lost.length === 0;
      });
      const secretIds = new Set<string>();
      let n = 0;
      const say = async (room: string, tag: string, labelled: boolean): Promise<string> => {
        const id = `${labelled ? "s" : "u"}-${tag}-${n++}`;
        if (labelled) secretIds.add(id);
        await c.alice!.send(
          groupchat(room, id, `${labelled ? "secret" : "plain"} ${tag}`, labelled ? S : undefined, demo),
        );
        return id;
      };
      for (const room of rooms) {
        const id = await say(room, "before", true);
        await c.bob!.waitFor((m) => m.attrs.id === id && m.attrs.type === "groupchat");
      }

      // The primary killed while alice keeps talking in every room.
      const oldPrimary = await redis.primaryPort();
      await redis.syncReplicas();
      const during: string[] = [];
      let talking = true;
      const talk = (async () => {
        for (let i = 0; talking; i++) {
          during.push(await say(rooms[i % rooms.length]!, "during", i % 2 === 0));
          await sleep(150);
        }
      })();
      await sleep(300);
      await redis.killPrimary();
      await redis.waitForFailover(oldPrimary, 30_000);
      // Bob lowered on the new primary. No replica is left (the old primary is dead; the sentinels
      // still list it): applied and notified, but reported not durable (packages/store durable-write.ts).
      const lowering = new RedisStore(redisOptions());
      try {
        await lowering.ready(10_000);
        await assert.rejects(
          lowering.setUserClearance(`bob@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"]))),
          NotDurableError,
        );
      } finally {
        await lowering.close();
      }
      await sleep(1500);
      talking = false;
      await talk;

      // Every room delivers again, with no restart; occupants are still joined.
      assert.equal(p1.child.exitCode, null, "s1 still running");
      assert.equal(p2.child.exitCode, null, "s2 still running");
      let states: string[] = [];
      await until(
        "every room answers",
        async () => {
          states = await Promise.all(rooms.map((r) => selfPing(c.carol!, `${r}/Carol`, 1500)));
          return states.every((s) => s === "joined");
        },
        30_000,
      ).catch((e: Error) => {
        throw new Error(
          `${e.message}: ${states.join(",")}\n${p1.log().slice(-1500)}\n${p2.log().slice(-1500)}`,
        );
      });
      for (const room of rooms)
        await until(`${room} delivers again`, async () => {
          const id = await say(room, "after", false);
          return c
            .carol!.waitFor((m) => m.attrs.id === id && m.attrs.type === "groupchat", 1500)
            .then(
              () => true,
              () => false,
            );
        });
      // Bob's lowered clearance applied: no SECRET sent from now on reaches him.
      const bobMark = c.bob!.received.length;
      const after: string[] = [];
      for (const room of rooms) after.push(await say(room, "lowered", true));
      for (const id of after) await c.alice!.waitFor((m) => m.attrs.id === id);
      await sleep(500);

      // Every message sent during the failover: reflected to alice, or refused to her bare.
      for (const id of during) {
        const answer = await c.alice!.waitFor((m) => m.attrs.id === id, 10_000);
        if (answer.attrs.type === "error") {
          const error = answer.getChild("error");
          assert.ok(error?.children.some((x) => typeof x !== "string" && x.attrs.xmlns === NS_STANZAS));
          assert.equal(answer.getChild("body"), undefined, "nothing of the message in the error");
          assert.equal(answer.getChild("securitylabel"), undefined, "no label in the error");
        } else assert.equal(answer.attrs.type, "groupchat");
      }
      const got = (client: TestClient, from = 0): string[] =>
        client.received
          .slice(from)
          .filter((m: Element) => m.attrs.type === "groupchat" && secretIds.has(String(m.attrs.id)))
          .map((m) => String(m.attrs.id));
      assert.deepEqual(got(c.carol!), [], "carol (UNCLASSIFIED) got SECRET");
      assert.deepEqual(got(c.bob!, bobMark), [], "bob (lowered) got SECRET after the lowering was applied");
      const refused = during.filter((id) =>
        c.alice!.received.some((m) => m.attrs.id === id && m.attrs.type === "error"),
      );
      console.log(
        `# sentinel-cli ${JSON.stringify({ kind, sent: during.length, refused: refused.length, states })}`,
      );
    });
  });
}
