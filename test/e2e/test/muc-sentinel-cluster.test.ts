// Two clustered Cordon MUC instances (SlotTakeover, `components.muc.cluster` as a library) sharing
// Redis through three real sentinels (primary + replica, harness startRedisSentinelSet), and the
// Redis primary SIGKILLed during labelled traffic (issue 19 goal 5; Redis documentation, "High
// availability with Redis Sentinel"). ejabberd: both instances hold a slot of
// `domain_balancing: bare_destination, component_number: 2` and rooms on both; Prosody (one
// connection per component domain): `slots: 1`, the second instance is the standby.
// Asserted on both servers: nothing labelled reaches an occupant whose clearance cannot be read
// (fail closed: the message gate refuses with a `wait` error, XEP-0045 §7.4 / RFC 6120 §8.3.2, never
// echoing the message) and the CONFIDENTIAL occupant never gets a SECRET message; senders hear of
// every refusal; after the failover the service is back by itself — every room delivers again, held
// by the same service it was held by before (occupants still joined: XEP-0410 self-ping), never by
// two at once, the leases show each instance's own link and no spare, the standby stays standby.
// Figures are printed as `# sentinel-cluster-failover {json}`.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  startRedisSentinelSet,
  serverKinds,
  connectClient,
  type Element,
  type RedisSentinelSet,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { RedisStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { loadDemo } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";
import {
  clusterInstance,
  configurePersistent,
  groupchat,
  holders,
  knownCopiesObserver,
  selfPing,
  sleep,
  until,
  type ClusterInstance,
} from "../src/muc-cluster-fixture.js";

const demo = loadDemo();
const SECRET = demo.label("SECRET");
const CONFIDENTIAL = demo.label("CONFIDENTIAL");
const UNCLASSIFIED = demo.label("UNCLASSIFIED");
const CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
const USERS = { alice: CLASSES, bob: CLASSES.slice(0, 4), carol: CLASSES.slice(0, 3) };
const CONFLICT = "CORDON_COMPONENT_CONFLICT";
/** The store's cache TTL: what it answers from during the outage, never longer. */
const CACHE_TTL_MS = 300;

interface Arrival {
  t: number;
  el: Element;
}

for (const kind of serverKinds()) {
  describe(`two clustered MUC instances through a Redis Sentinel failover on ${kind}`, () => {
    const domain = `${kind}-sc.test`;
    const mucDomain = `rooms.${domain}`;
    const secret = "sentinel-cluster";
    const slots = kind === "ejabberd" ? 2 : 1;
    let redis: RedisSentinelSet;
    let server: XmppServer;
    let admin: RedisStore;
    const nodes: ClusterInstance[] = [];
    const c: Record<string, TestClient> = {};
    const arrivals: Record<string, Arrival[]> = {};
    const decisions: Array<{ t: number; room: string; granted: boolean; reason: string }> = [];
    const violations: string[] = [];
    const takeovers = () => nodes.map((n) => n.takeover);

    before(async () => {
      redis = await startRedisSentinelSet({ name: `sc-${kind}`, replicas: 1, sentinels: 3 });
      await redis.waitForReplication();
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret }],
        ...(kind === "ejabberd" ? { componentBalancing: { [mucDomain]: "bare_destination" as const } } : {}),
        users: Object.keys(USERS).map((u) => ({ username: u, password: `${u}-pw` })),
      });
      const redisOptions = {
        sentinels: [...redis.sentinels],
        sentinelName: redis.name,
        prefix: `sc-${kind}:`,
      };
      admin = new RedisStore(redisOptions);
      await admin.ready(10_000);
      for (const [u, classes] of Object.entries(USERS))
        await admin.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(classes)));
      for (const id of ["sc-a", "sc-b"]) {
        const node = await clusterInstance({
          demo,
          id,
          slots,
          server,
          mucDomain,
          domain,
          secret,
          redis: redisOptions,
          store: { cacheTtlMs: CACHE_TTL_MS, maxReconnectDelayMs: 200 },
          // Prosody: the second instance finds the domain held (conflict) and waits as the standby.
          fatalAtStart: (e) => (e as Error & { code?: string }).code !== CONFLICT,
          settings: {
            namedLabels: [
              { name: "UNCLASSIFIED", label: UNCLASSIFIED },
              { name: "CONFIDENTIAL", label: CONFIDENTIAL },
              { name: "SECRET", label: SECRET },
            ],
            // Ten minutes: what is seen within seconds after the failover came by the store's reconnection.
            clearanceRefreshMs: 600_000,
          },
          observer: (service) =>
            knownCopiesObserver(
              service,
              (event) =>
                decisions.push({
                  t: Date.now(),
                  room: event.room,
                  granted: event.granted,
                  reason: event.reason,
                }),
              violations,
            ),
        });
        nodes.push(node);
        await node.takeover.start();
      }
      for (const u of Object.keys(USERS)) {
        const client = await connectClient(server, u, `${u}-pw`);
        c[u] = client;
        const list: Arrival[] = [];
        arrivals[u] = list;
        client.xmpp.on("stanza", (el: Element) => {
          list.push({ t: Date.now(), el });
          if (list.length > 20_000) list.splice(0, 10_000); // bounded
        });
      }
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      for (const n of nodes) await n.close();
      await admin?.close().catch(() => undefined);
      await server?.stop();
      await redis?.stop();
    });

    test(`[${kind}] primary killed during cluster traffic: fail closed, senders told, back by itself with the same holders`, async () => {
      const [a, b] = nodes as [ClusterInstance, ClusterInstance];
      // Rooms until both instances hold some (ejabberd: phash2 of the room JID picks the slot); on
      // Prosody the active instance holds them all.
      const rooms: string[] = [];
      const holderOf = (room: string) => holders(takeovers(), room)[0]?.instance;
      for (
        let i = 0;
        i < 16 &&
        (rooms.length < 2 ||
          (slots === 2 &&
            !(
              rooms.some((r) => holderOf(r) === a.takeover) && rooms.some((r) => holderOf(r) === b.takeover)
            )));
        i++
      ) {
        const room = `ops${i}@${mucDomain}`;
        const self = await join(c.alice!, room, "Alice");
        assert.notEqual(self.attrs.type, "error", self.toString());
        await configurePersistent(c.alice!, room, { "sec-label#label": "CONFIDENTIAL" });
        await join(c.bob!, room, "Bob");
        await join(c.carol!, room, "Carol");
        rooms.push(room);
      }
      const held = new Map<string, MucService>();
      for (const room of rooms) {
        const h = holders(takeovers(), room);
        assert.equal(h.length, 1, `${room} is held by exactly one service`);
        held.set(room, h[0]!.service);
      }
      if (slots === 2) {
        assert.ok(
          rooms.some((r) => holderOf(r) === a.takeover),
          "instance a holds rooms",
        );
        assert.ok(
          rooms.some((r) => holderOf(r) === b.takeover),
          "instance b holds rooms",
        );
      } else assert.equal(b.takeover.services.length, 0, "the Prosody standby holds no link");

      // Sampled every 50 ms from now on: a room held by two services, or by another than before.
      const anomalies: string[] = [];
      let maxSpares = 0;
      const sampler = setInterval(() => {
        maxSpares = Math.max(maxSpares, ...takeovers().map((t) => t.spareCount));
        for (const room of rooms) {
          const h = holders(takeovers(), room);
          if (h.length > 1) anomalies.push(`${room} held by ${h.length} services`);
          else if (h.length === 1 && h[0]!.service !== held.get(room)) anomalies.push(`${room} moved`);
        }
        if (anomalies.length > 100) anomalies.length = 100; // bounded
      }, 50);

      const sent = new Map<string, { t: number; from: string; room: string; label: "S" | "C" }>();
      let n = 0;
      let traffic = true;
      // In every room: Alice (TOP SECRET) sends SECRET and CONFIDENTIAL in turn, Bob (SECRET) CONFIDENTIAL.
      const pump = (async () => {
        while (traffic) {
          n++;
          for (const [r, room] of rooms.entries())
            for (const [who, label] of [
              ["alice", n % 2 === 0 ? "S" : "C"],
              ["bob", "C"],
            ] as const) {
              const id = `r${r}-${who}-${n}-${label}`;
              sent.set(id, { t: Date.now(), from: who, room, label });
              await c[who]!.send(
                groupchat(room, id, `secret text ${who} ${n}`, label === "S" ? SECRET : CONFIDENTIAL, demo),
              );
            }
          await sleep(150);
        }
      })();
      const copiesOf = (who: string, room?: string, since = 0) =>
        arrivals[who]!.filter((x) => {
          const s = sent.get(x.el.attrs.id ?? "");
          return (
            s !== undefined &&
            x.t >= since &&
            x.el.is("message") &&
            x.el.attrs.type === "groupchat" &&
            (room === undefined || s.room === room)
          );
        });
      try {
        await until(
          "traffic flows in every room",
          () => rooms.every((r) => copiesOf("bob", r).length >= 4 && copiesOf("carol", r).length >= 2),
          15_000,
        );
        const oldPrimary = await redis.primaryPort();
        await redis.syncReplicas();
        const upTimes = new Map<ClusterInstance, number>();
        let killedAt = 0;
        const offs = nodes.map((node) =>
          node.store.subscribe((e) => {
            if (e.kind === "connection" && e.state === "up" && killedAt > 0 && !upTimes.has(node))
              upTimes.set(node, Date.now());
          }),
        );
        killedAt = Date.now();
        await redis.killPrimary();
        // Fail closed: once the cache TTL is over, the re-reads turn every occupant unknown. (At the
        // store's "down" they are unknown at once, but a re-read may still answer from the store's
        // cache within its TTL: the state that must last is the one after the TTL.)
        await until(
          "every occupant of every room is unknown",
          () =>
            Date.now() - killedAt >= CACHE_TTL_MS &&
            rooms.every((r) =>
              [...held.get(r)!.rooms.get(r)!.occupants.values()].every(
                (o) => o.clearance.status === "unknown",
              ),
            ),
          10_000,
        );
        const unknownAt = Date.now();
        const promoted = await redis.waitForFailover(oldPrimary, 60_000);
        const announcedAt = Date.now();
        // Back by itself: in every room, labelled copies of messages sent after the outage began.
        await until(
          "labelled deliveries in every room after the failover",
          () =>
            rooms.every(
              (r) =>
                copiesOf("bob", r).some((x) => sent.get(x.el.attrs.id!)!.t > unknownAt) &&
                copiesOf("carol", r).some((x) => sent.get(x.el.attrs.id!)!.t > unknownAt),
            ),
          30_000,
        );
        const firstAfter = Math.max(
          ...rooms.map((r) => copiesOf("bob", r).find((x) => sent.get(x.el.attrs.id!)!.t > unknownAt)!.t),
        );
        for (const off of offs) off();
        const holderNode = (room: string) =>
          nodes.find((node) => node.takeover.services.includes(held.get(room)!))!;
        for (const node of new Set(rooms.map(holderNode)))
          assert.ok(upTimes.has(node), "the holder's store reported its connection back");

        // Nothing reached anyone between "all unknown" and the holder's store recovery.
        for (const room of rooms) {
          const upAt = upTimes.get(holderNode(room))!;
          for (const who of Object.keys(USERS))
            assert.deepEqual(
              copiesOf(who, room, unknownAt)
                .filter((x) => x.t < upAt)
                .map((x) => x.el.attrs.id),
              [],
              `${who} received labelled copies in ${room} while the store was down`,
            );
          // Every message sent while all were unknown (with a margin before the recovery) was refused
          // to its sender with a `wait` error that does not echo the message, and reached nobody.
          const outage = [...sent.entries()].filter(
            ([, s]) => s.room === room && s.t > unknownAt && s.t < upAt - 300,
          );
          assert.ok(outage.length >= 2, `traffic in ${room} during the outage (${outage.length} messages)`);
          for (const [id, s] of outage) {
            const err = arrivals[s.from]!.find((x) => x.el.attrs.id === id && x.el.attrs.type === "error");
            assert.ok(err, `${id}: the sender heard of the refusal`);
            assert.equal(err.el.getChild("error")?.attrs.type, "wait");
            assert.ok(!err.el.toString().includes("secret text"), "the error does not echo the message");
            for (const who of Object.keys(USERS))
              assert.ok(
                !arrivals[who]!.some((x) => x.el.attrs.id === id && x.el.attrs.type === "groupchat"),
                `${id} reached ${who}`,
              );
          }
        }
        assert.deepEqual(violations, [], "no service sent more copies than occupants known");

        // Held as before: the leases settle on each instance's own link and no spare.
        const expected = slots === 2 ? { "sc-a": 1, "sc-b": 1 } : { "sc-a": 1 };
        let live: Record<string, number> = {};
        await until(
          "the leases settle",
          async () => {
            live = Object.fromEntries(await a.membership.beat("", undefined));
            // (HGETALL lists the instances in the order they first beat: compared sorted.)
            return JSON.stringify(Object.entries(live).sort()) === JSON.stringify(Object.entries(expected));
          },
          15_000,
        ).catch((e: Error) => assert.fail(`${e.message}: ${JSON.stringify(live)}`));
        // The leases lapsed during the outage, but no instance took its peer for gone (a spare would
        // only have found no free slot): peers get a lease period to renew after a failed round.
        assert.equal(maxSpares, 0, "no spare opened during or after the failover");
        for (const room of rooms) {
          const h = holders(takeovers(), room);
          assert.equal(h.length, 1, `${room} held by one service`);
          assert.equal(h[0]!.service, held.get(room), `${room} is held by the same service as before`);
          for (const [who, nick] of [
            ["bob", "Bob"],
            ["carol", "Carol"],
          ] as const)
            assert.equal(await selfPing(c[who]!, `${room}/${nick}`), "joined", `${who} is still in ${room}`);
        }
        if (slots === 1) assert.equal(b.takeover.services.length, 0, "the standby stayed standby");
        assert.deepEqual(anomalies, [], "no room held twice or moved");

        // Carol (CONFIDENTIAL) never received anything SECRET, before, during or after.
        assert.deepEqual(
          copiesOf("carol")
            .filter((x) => x.el.attrs.id!.endsWith("-S"))
            .map((x) => x.el.attrs.id),
          [],
        );
        const inOutage = decisions.filter((d) => d.t >= killedAt && d.t < firstAfter);
        const figures = {
          server: kind,
          rooms: rooms.length,
          rooms_per_instance: nodes.map((node) => rooms.filter((r) => holderNode(r) === node).length),
          failover_s: +((firstAfter - killedAt) / 1000).toFixed(2),
          all_unknown_after_s: +((unknownAt - killedAt) / 1000).toFixed(2),
          sentinel_announced_after_s: +((announcedAt - killedAt) / 1000).toFixed(2),
          stores_up_after_s: [...upTimes.values()].map((t) => +((t - killedAt) / 1000).toFixed(2)),
          promoted_port_changed: promoted !== oldPrimary,
          messages_during_outage: inOutage.length,
          refused: inOutage.filter((d) => !d.granted).length,
          refused_reasons: [...new Set(inOutage.filter((d) => !d.granted).map((d) => d.reason))],
          granted: inOutage.filter((d) => d.granted).length,
          transient_spares: maxSpares,
        };
        console.log(`# sentinel-cluster-failover ${JSON.stringify(figures)}`);
      } finally {
        traffic = false;
        clearInterval(sampler);
        await pump.catch(() => undefined);
      }
    });
  });
}
