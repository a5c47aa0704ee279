// High availability on ejabberd: two MUC instances connected for the same domain, balanced by
// `domain_balancing: bare_destination` with `component_number: 2` (every stanza to a room reaches
// the instance holding the room's hash slot), sharing a real Redis. A persistent room created on
// one is known to the other. ejabberd does not move a slot to the surviving connection: when an
// instance stops, a replacement takes its free slot and serves its rooms — label, affiliations
// and history come back from Redis.
// (Prosody accepts one connection per component domain: active/standby, see packages/muc/README.md.)
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  startRedis,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { RedisStore } from "@cordon/store";
import { NS_MUC_OWNER, type MucService } from "@cordon/muc";
import { loadDemo, startDemoMuc } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";

const demo = loadDemo();
const S = demo.label("SECRET");
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];

for (const kind of serverKinds().filter((k) => k === "ejabberd")) {
  describe(`two MUC instances on ${kind} with shared Redis`, () => {
    const domain = "ha.test";
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    const stores: RedisStore[] = [];
    const instances: MucService[] = [];
    const c: Record<string, TestClient> = {};

    const instance = async () => {
      const store = new RedisStore({ url: redis.url, prefix: "ha-test" });
      stores.push(store);
      await store.ready(5000);
      const muc = await startDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "ha",
        store,
        settings: { serviceClearance: demo.clearance(ALL), defaultRoomClearance: demo.clearance(ALL) },
      });
      instances.push(muc);
      return muc;
    };

    before(async () => {
      redis = await startRedis();
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "ha" }],
        // domain_balancing with component_number: N hash slots, each held by one connection;
        // bare_destination keeps every stanza of a room on the instance holding its slot.
        componentBalancing: { [mucDomain]: "bare_destination" },

        users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      const seed = new RedisStore({ url: redis.url, prefix: "ha-test" });
      await seed.ready(5000);
      await seed.setUserClearance(`alice@${domain}`, demo.raw(demo.clearance(ALL)));
      await seed.setUserClearance(`bob@${domain}`, demo.raw(demo.clearance(ALL)));
      await seed.close();
      await instance();
      await instance();
      for (const u of ["alice", "bob"]) c[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      for (const muc of instances) await muc.stop().catch(() => undefined);
      for (const store of stores) await store.close().catch(() => undefined);
      await server?.stop();
      await redis?.stop();
    });

    test(`[${kind}] both instances stay connected; a room is served by one and known to both; a replacement takes over with the room's state`, async () => {
      const room = `shared@${mucDomain}`;
      await join(c.alice!, room, "Alice");
      await c.alice!.iq(
        xml(
          "iq",
          { type: "set", to: room },
          xml(
            "query",
            { xmlns: NS_MUC_OWNER },
            xml(
              "x",
              { xmlns: "jabber:x:data", type: "submit" },
              xml("field", { var: "muc#roomconfig_persistentroom" }, xml("value", {}, "1")),
              xml("field", { var: "sec-label#label" }, xml("value", {}, "SECRET")),
            ),
          ),
        ),
      );
      await join(c.bob!, room, "Bob");
      await c.alice!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "ha-1" },
          xml("body", {}, "before failover"),
          parseElement(demo.labelXml(S)),
        ),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "ha-1");
      const owners = instances.filter((m) => (m.rooms.get(room)?.size ?? 0) > 0);
      assert.equal(owners.length, 1, "exactly one instance holds the occupants (bare_destination)");
      const serving = owners[0]!;
      const standby = instances.find((m) => m !== serving)!;
      // The standby learned the persistent room from Redis.
      const deadline = Date.now() + 3000;
      while (!standby.rooms.has(room) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(standby.rooms.has(room));
      assert.equal(standby.rooms.get(room)!.security.label?.classification.name, "SECRET");

      await serving.stop();
      const replacement = await instance();
      assert.ok(replacement.rooms.has(room), "the replacement loaded the persistent room from Redis");
      // Clients find out by XEP-0410 self-ping (not-acceptable: not joined any more) and rejoin.
      const ping = await c
        .bob!.iq(xml("iq", { type: "get", to: `${room}/Bob` }, xml("ping", { xmlns: "urn:xmpp:ping" })))
        .then(
          () => "joined",
          (e: Error) => e.message,
        );
      assert.match(ping, /not-acceptable/);
      const mark = c.bob!.received.length;
      await join(c.alice!, room, "Alice");
      await join(c.bob!, room, "Bob");
      const replay = c
        .bob!.received.slice(mark)
        .filter((m) => m.is("message") && m.getChild("delay", "urn:xmpp:delay"));
      assert.ok(
        replay.some((m) => m.getChildText("body")?.endsWith("before failover")),
        "history came from Redis",
      );
      await c.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "ha-2" }, xml("body", {}, "after failover")),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "ha-2");
      assert.equal(replacement.rooms.get(room)!.size, 2, "the replacement serves the room");
      assert.equal(standby.rooms.get(room)?.size ?? 0, 0, "the other instance never held its occupants");
    });
  });
}
