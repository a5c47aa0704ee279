// Adversarial review adv44 (issue 19 goal 5): a clustered `cordon start` process paused (SIGSTOP)
// for three lease periods while traffic goes on, an occupant's clearance is lowered, and a second
// process given the paused one's instance name starts (it gets the lapsed name). Then SIGCONT.
// Asserted on both servers: while paused, the paused process's connection still holds what it held
// (Prosody: the standby does not take the domain; never two holders of a slot: the XMPP server
// gives each to one connection); after SIGCONT the stanzas queued for it are decided with the
// lowered clearance (bob, lowered to UNCLASSIFIED before the SECRET messages were sent, never gets
// one; carol never gets SECRET); the resumed process is refused its name and stands down (closes
// its connection, keeps running); every room answers again afterwards (on ejabberd the freed slot
// is taken by the twin: before adv44 it stayed free for good) and enforces the lowered clearance.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startRedis,
  serverKinds,
  type XmppServer,
  type TestClient,
  type RedisInstance,
} from "@cordon/harness";
import { RedisMembership } from "@cordon/store";
import { ALL_CLASSES as ALL, loadDemo } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";
import { groupchat, seedClearances as seed, selfPing, sleep, until } from "../src/muc-cluster-fixture.js";
import * as cluster from "../src/muc-cluster-fixture.js";
import { connectUsers } from "../src/muc-service-fixture.js";
import { spawnCordon, type SpawnedCordon } from "../src/cordon-process.js";

const demo = loadDemo();
const S = demo.label("SECRET");
const PREFIX = "clpause";

for (const kind of serverKinds()) {
  describe(`a clustered process paused past its lease on ${kind} (adv44)`, () => {
    const domain = `${kind}-pause.test`;
    const mucDomain = `rooms.${domain}`;
    const slots = kind === "ejabberd" ? 2 : 1;
    let server: XmppServer;
    let redis: RedisInstance;
    let dir: string;
    let membership: RedisMembership;
    const cordons: SpawnedCordon[] = [];
    const c: Record<string, TestClient> = {};
    const config = (file: string, instance: string) =>
      cluster.writeClusterCliConfig(dir, file, {
        server,
        domain,
        mucDomain,
        secret: "pause-secret",
        redis: { url: redis.url },
        prefix: `${PREFIX}:`,
        instance,
        slots,
      });
    const clear = (users: Record<string, readonly string[]>) =>
      seed(demo, { url: redis.url, prefix: `${PREFIX}:` }, domain, users);

    before(async () => {
      redis = await startRedis();
      server = await cluster.startClusterServer(kind, domain, mucDomain, "pause-secret");
      await clear({ alice: ALL, bob: ALL, carol: ["UNCLASSIFIED"] });
      membership = new RedisMembership({ url: redis.url, prefix: PREFIX, group: mucDomain });
      dir = cluster.policyDir("cordon-pause");
      await connectUsers(server, cluster.CLI_USERS, c);
    });

    after(() => cluster.stopClusterCli({ c, cordons, membership, server, redis, dir }));

    test(`[${kind}] SIGSTOP past the lease, a clearance lowered and a twin started meanwhile; SIGCONT: nothing above the clearance, the paused one stands down, every room served again`, async () => {
      const p1 = spawnCordon(config("p1", "p1"));
      cordons.push(p1);
      await until("p1 started", () => p1.log().includes("MUC cluster instance started"));
      const p2 = spawnCordon(config("p2", "p2"));
      cordons.push(p2);
      if (kind === "ejabberd")
        await until("both hold one link", async () => {
          const l = Object.fromEntries(await membership.beat("", undefined));
          return l.p1 === 1 && l.p2 === 1 && Object.keys(l).length === 2;
        });
      else await until("p2 is the standby", () => p2.log().includes("standby: another instance holds"));
      const rooms = Array.from({ length: slots === 2 ? 6 : 1 }, (_, i) => `pz${i}@${mucDomain}`);
      await cluster.enterRooms(c, rooms);
      const secretIds = new Set<string>();
      const sayAll = async (tag: string) => {
        for (const [i, room] of rooms.entries()) {
          secretIds.add(`s-${tag}-${i}`);
          await c.alice!.send(groupchat(room, `s-${tag}-${i}`, `secret ${tag}`, S, demo));
          await c.alice!.send(groupchat(room, `u-${tag}-${i}`, `plain ${tag}`, undefined, demo));
        }
      };
      await sayAll("before");
      for (const i of rooms.keys())
        await c.bob!.waitFor((m) => m.attrs.id === `s-before-${i}` && m.attrs.type === "groupchat");
      const bobMark = c.bob!.received.length;

      // Pause p1 for three lease periods.
      p1.child.kill("SIGSTOP");
      const stoppedAt = Date.now();
      await sleep(500);
      await clear({ bob: ["UNCLASSIFIED"] });
      await sleep(300);
      await sayAll("paused");
      const twin = spawnCordon(config("p1-twin", "p1"));
      cordons.push(twin);
      await sleep(Math.max(0, 6000 - (Date.now() - stoppedAt)));
      if (kind === "prosody")
        assert.doesNotMatch(
          p2.log(),
          /standby took over/,
          "the paused process's connection still holds the domain",
        );
      p1.child.kill("SIGCONT");
      await until("p1 stands down", () => p1.log().includes("renewed by another live process"), 15_000);
      assert.equal(p1.child.exitCode, null, "standing by, not exited");

      // Every room answers again (its slot or the domain held by someone).
      let states: string[] = [];
      await until(
        "every room answers",
        async () => {
          states = await Promise.all(rooms.map((r) => selfPing(c.alice!, `${r}/Alice`, 1500)));
          return states.every((s) => s !== "no answer");
        },
        25_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${states.join(",")}\n${twin.log().slice(-1500)}`);
      });
      const t0 = Date.now();
      try {
        // Rooms whose slot moved lost their occupants (XEP-0410 §3.2): they rejoin there.
        for (const room of rooms.filter((_, i) => states[i] === "not-acceptable")) {
          await join(c.alice!, room, "Alice");
          await join(c.bob!, room, "Bob");
          await join(c.carol!, room, "Carol");
        }
      } catch (e) {
        const logs = [p1, p2, twin].map((x) =>
          x
            .log()
            .split("\n")
            .filter((l) => /spare|redial|stood|renewed|standby|slot|started|contested|free again/.test(l))
            .map((l) => l.slice(0, 300))
            .join("\n"),
        );
        throw new Error(
          `${(e as Error).message} after ${Date.now() - t0} ms: ${states.join(",")}\n${logs.join("\n---\n")}`,
        );
      }
      await sayAll("after");
      for (const i of rooms.keys())
        await c.carol!.waitFor((m) => m.attrs.id === `u-after-${i}` && m.attrs.type === "groupchat");
      await sleep(500);
      const bobSecret = c
        .bob!.received.slice(bobMark)
        .filter((m) => m.attrs.type === "groupchat" && secretIds.has(String(m.attrs.id)))
        .map((m) => String(m.attrs.id));
      assert.deepEqual(bobSecret, [], "bob (lowered) got SECRET");
      const carolSecret = c.carol!.received.filter(
        (m) => m.attrs.type === "groupchat" && /^s-/.test(String(m.attrs.id)),
      );
      assert.equal(carolSecret.length, 0, "carol got SECRET");
      console.log(
        JSON.stringify({
          kind,
          twinStarted: twin.log().includes("MUC cluster instance started"),
          p1StoodDown: true,
          states,
        }),
      );
    });
  });
}
