// Cordon MUC on a two-node ejabberd 23.01 cluster (issue 19 goal 5): two Erlang nodes joined with
// `ejabberdctl join_cluster` (Mnesia shared), one Cordon MUC instance attached to each node's
// component listener, both sharing one Redis, the domain balanced by `domain_balancing:
// bare_destination` with `component_number: 2` (packages/muc/src/cluster/slot-takeover.ts).
// Rooms spread over both instances; clients on either node reach every room with labels enforced;
// when one instance dies, the other takes its slot (a spare connection, leases in Redis) and serves
// its rooms from Redis: occupants' XEP-0410 self-ping answers not-acceptable (§3.2: not joined),
// they rejoin, and the persistent configuration, affiliations and history are there.
// Prosody has no clustering (one connection per component domain): active/standby, tested in
// muc-ha.test.ts and documented in packages/muc/README.md §High availability.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startEjabberdCluster,
  startRedis,
  serverKinds,
  connectClient,
  type EjabberdCluster,
  type TestClient,
} from "@cordon/harness";
import type { SlotTakeover, MucService } from "@cordon/muc";
import { ALL_CLASSES as ALL, loadDemo } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";
import {
  clusterInstance,
  configurePersistent,
  groupchat,
  holders,
  replayed,
  seedClearances,
  selfPing,
  until,
  type ClusterInstance,
} from "../src/muc-cluster-fixture.js";

const demo = loadDemo();
const S = demo.label("SECRET");

if (serverKinds().includes("ejabberd"))
  describe("labelled MUC on a two-node ejabberd cluster, one Cordon instance per node, shared Redis", () => {
    const domain = "cluster.test";
    const mucDomain = `rooms.${domain}`;
    const secret = "cluster-secret";
    let cluster: EjabberdCluster;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    const nodes: ClusterInstance[] = [];
    const instances: SlotTakeover[] = [];
    const c: Record<string, TestClient> = {};
    /** A room the failover test handed back to the instance on node 2. */
    let handedBack = "";

    const instance = async (node: number): Promise<SlotTakeover> => {
      const created = await clusterInstance({
        demo,
        id: `cordon-${node + 1}`,
        slots: 2,
        server: cluster.nodes[node]!,
        mucDomain,
        domain,
        secret,
        redis: { url: redis.url, prefix: "cluster-test" },
      });
      nodes.push(created);
      await created.takeover.start();
      instances.push(created.takeover);
      return created.takeover;
    };

    /** The instance whose services hold the room's occupants (at most one may). */
    const holder = (room: string): { instance: SlotTakeover; service: MucService }[] =>
      holders(instances, room);

    const say = (client: TestClient, room: string, id: string, body: string, labelled: boolean) =>
      client.send(groupchat(room, id, body, labelled ? S : undefined, demo));

    const configure = (room: string, name: string) =>
      configurePersistent(c.alice!, room, { "muc#roomconfig_roomname": name });

    before(async () => {
      redis = await startRedis();
      cluster = await startEjabberdCluster({
        domain,
        components: [{ domain: mucDomain, secret }],
        componentBalancing: { [mucDomain]: "bare_destination" },
        users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      await seedClearances(demo, { url: redis.url, prefix: "cluster-test" }, domain, {
        alice: ALL,
        bob: ALL,
        carol: ["UNCLASSIFIED"],
      });
      await instance(0);
      await instance(1);
      // alice on node 1; bob and carol on node 2.
      c.alice = await connectClient(cluster.nodes[0]!, "alice", "alice-pw");
      c.bob = await connectClient(cluster.nodes[1]!, "bob", "bob-pw");
      c.carol = await connectClient(cluster.nodes[1]!, "carol", "carol-pw");
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      for (const n of nodes) await n.close();
      await cluster?.stop();
      await redis?.stop();
    });

    test("[ejabberd cluster] the nodes form one cluster", async () => {
      const listed = await cluster.ctl(1, ["list_cluster"]);
      for (const name of cluster.nodeNames) assert.ok(listed.includes(name), listed);
    });

    test("[ejabberd cluster] rooms spread over both instances, reachable from either node, labels enforced; a killed instance's rooms move to the other with their state", async () => {
      const [first, second] = instances as [SlotTakeover, SlotTakeover];
      // Rooms until both instances hold some (bare_destination: phash2 of the room JID picks the slot).
      const rooms: string[] = [];
      for (
        let i = 0;
        i < 24 &&
        (rooms.length < 4 ||
          !rooms.some((r) => holder(r)[0]?.instance === second) ||
          !rooms.some((r) => holder(r)[0]?.instance === first));
        i++
      ) {
        const room = `room${i}@${mucDomain}`;
        const self = await join(c.alice!, room, "Alice");
        assert.notEqual(self.attrs.type, "error", self.toString());
        await configure(room, `Room ${i}`);
        rooms.push(room);
      }
      const on = (t: SlotTakeover) => rooms.filter((r) => holder(r)[0]?.instance === t);
      assert.ok(on(first).length > 0 && on(second).length > 0, "both instances host rooms");
      for (const room of rooms)
        assert.equal(holder(room).length, 1, `${room} is served by exactly one instance`);

      // A client on either node reaches every room; an uncleared occupant gets nothing labelled.
      for (const [i, room] of rooms.entries()) {
        await join(c.bob!, room, "Bob");
        await join(c.carol!, room, "Carol");
        await say(c.alice!, room, `s-${i}`, `secret before ${i}`, true);
        await say(c.bob!, room, `u-${i}`, `plain before ${i}`, false);
        await c.bob!.waitFor((m) => m.attrs.id === `s-${i}` && m.attrs.type === "groupchat");
        await c.alice!.waitFor((m) => m.attrs.id === `u-${i}` && m.attrs.type === "groupchat");
        await c.carol!.waitFor((m) => m.attrs.id === `u-${i}` && m.attrs.type === "groupchat");
        assert.ok(!c.carol!.received.some((m) => m.attrs.id === `s-${i}`), "carol got a SECRET message");
      }

      // Kill the second instance (no clean leave: its lease runs out, as after a crash).
      const moved = on(second);
      const kept = on(first);
      const killedAt = Date.now();
      await second.crash();
      instances.splice(instances.indexOf(second), 1);
      await until("the survivor holds a spare link", () => first.spareCount === 1);
      // XEP-0410 §3.2: a self-ping to a room we are no longer in answers not-acceptable; until the
      // spare holds the freed slot, the ping gets no answer (ejabberd drops stanzas of a free slot).
      for (const room of moved)
        await until(`${room} answers the self-ping`, async () =>
          /not-acceptable/.test(await selfPing(c.bob!, `${room}/Bob`)),
        );
      const failoverMs = Date.now() - killedAt;
      // Rooms the survivor held keep their occupants.
      for (const room of kept) assert.equal(await selfPing(c.bob!, `${room}/Bob`), "joined");

      for (const room of moved) {
        const mark = c.bob!.received.length;
        await join(c.alice!, room, "Alice");
        await join(c.bob!, room, "Bob");
        await join(c.carol!, room, "Carol");
        const [{ instance: now, service }] = holder(room) as [
          { instance: SlotTakeover; service: MucService },
        ];
        assert.equal(now, first, "the survivor serves the moved room");
        const state = service.rooms.get(room)!;
        assert.equal(state.config.persistent, true);
        assert.match(state.config.name, /^Room \d+$/);
        assert.equal(state.affiliations.get(`alice@${domain}`), "owner", "affiliations came from Redis");
        assert.ok(
          replayed(c.bob!, mark).some((b) => /secret before \d+$/.test(b)),
          "history came from Redis",
        );
        const id = `after-${room}`;
        await say(c.alice!, room, id, "secret after", true);
        await say(c.bob!, room, `${id}-u`, "plain after", false);
        await c.bob!.waitFor((m) => m.attrs.id === id && m.attrs.type === "groupchat");
        await c.carol!.waitFor((m) => m.attrs.id === `${id}-u` && m.attrs.type === "groupchat");
        assert.ok(
          !c.carol!.received.some((m) => m.attrs.id === id),
          "carol got a SECRET message after failover",
        );
      }
      for (const room of rooms)
        assert.equal(holder(room).length, 1, `${room} is served by exactly one service`);
      console.log(JSON.stringify({ failoverMs, moved: moved.length, kept: kept.length }));

      // The instance comes back: the survivor drops its spare, the newcomer takes the slot.
      await instance(1);
      await until("the spare is handed back", () => first.spareCount === 0);
      const back = instances.at(-1)!;
      const room = moved[0]!;
      await until(`${room} answers the self-ping after handback`, async () =>
        /not-acceptable/.test(await selfPing(c.bob!, `${room}/Bob`)),
      );
      await join(c.bob!, room, "Bob");
      assert.equal(holder(room)[0]?.instance, back, "the returning instance serves the slot again");
      handedBack = room;
    });

    test("[ejabberd cluster] when a whole node dies, its instance's rooms move to the instance on the other node", async () => {
      const room = handedBack;
      assert.ok(room, "runs after the failover test");
      const first = instances[0]!;
      await join(c.alice!, room, "Alice");
      await say(c.alice!, room, "node-1", "secret before the node died", true);
      await c.alice!.waitFor((m) => m.attrs.id === "node-1" && m.attrs.type === "groupchat");
      assert.notEqual(holder(room)[0]?.instance, first, "served through node 2");
      // SIGKILL of node 2's Erlang VM: node 1's router frees the slot ('DOWN', noconnection); the
      // instance on node 2 loses its connection, cannot reconnect, stops renewing its lease.
      await cluster.nodes[1]!.kill();
      await until("the survivor holds a spare link", () => first.spareCount === 1);
      await until(`${room} answers alice's self-ping`, async () =>
        /not-acceptable/.test(await selfPing(c.alice!, `${room}/Alice`)),
      );
      const mark = c.alice!.received.length;
      await join(c.alice!, room, "Alice");
      assert.ok(
        replayed(c.alice!, mark).some((b) => b.endsWith("secret before the node died")),
        "history came from Redis",
      );
      assert.equal(holder(room)[0]?.instance, first, "the instance on node 1 serves it");
    });
  });
