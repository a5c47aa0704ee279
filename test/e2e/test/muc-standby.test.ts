// High availability on Prosody 0.12 (issue 19 goal 5 asks for more than one machine): Prosody has no
// clustering and accepts one connection per component domain (a second one gets the stream error
// `conflict`, XEP-0114 §3 / RFC 6120 §4.9.3.3), so the MUC runs active/standby sharing Redis: a
// standby that starts while the active instance is connected is refused (fatal, it does not take
// the domain); once the active one is gone, the standby takes the domain and serves the persistent
// room from Redis (label, affiliations, history); occupants learn it from their XEP-0410 self-ping
// (not-acceptable: not joined, §3.2) and rejoin. The ejabberd cluster is muc-cluster.test.ts.
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
import { loadDemo, createDemoMuc } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";

const demo = loadDemo();
const S = demo.label("SECRET");
const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];

for (const kind of serverKinds().filter((k) => k === "prosody"))
  describe(`active/standby MUC on ${kind} with shared Redis`, () => {
    const domain = "standby.test";
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    const stores: RedisStore[] = [];
    const c: Record<string, TestClient> = {};

    const instance = async (): Promise<MucService> => {
      const store = new RedisStore({ url: redis.url, prefix: "standby-test" });
      stores.push(store);
      await store.ready(5000);
      return createDemoMuc(demo, {
        server,
        mucDomain,
        localDomain: domain,
        secret: "sb",
        store,
        settings: { serviceClearance: demo.clearance(ALL), defaultRoomClearance: demo.clearance(ALL) },
      });
    };

    before(async () => {
      redis = await startRedis();
      server = await startServer(kind, {
        domain,
        components: [{ domain: mucDomain, secret: "sb" }],
        users: ["alice", "bob"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      const seed = new RedisStore({ url: redis.url, prefix: "standby-test" });
      await seed.ready(5000);
      for (const u of ["alice", "bob"])
        await seed.setUserClearance(`${u}@${domain}`, demo.raw(demo.clearance(ALL)));
      await seed.close();
      for (const u of ["alice", "bob"]) c[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      for (const store of stores) await store.close().catch(() => undefined);
      await server?.stop();
      await redis?.stop();
    });

    test(`[${kind}] a standby is refused while the active instance is connected, and takes over with the room's state once it is gone`, async () => {
      const active = await instance();
      await active.start();
      const room = `ops@${mucDomain}`;
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
          { to: room, type: "groupchat", id: "sb-1" },
          xml("body", {}, "before failover"),
          parseElement(demo.labelXml(S)),
        ),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "sb-1");

      // A second instance for the same domain: Prosody refuses it (conflict); the active one stays.
      const second = await instance();
      await assert.rejects(
        second.start(),
        (e: Error & { code?: string }) => e.code === "CORDON_COMPONENT_CONFLICT",
      );
      await second.stop();
      await c.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "sb-2" }, xml("body", {}, "still here")),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "sb-2");

      await active.stop();
      const standby = await instance();
      await standby.start();
      assert.equal(standby.rooms.get(room)?.security.label?.classification.name, "SECRET");
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
      assert.equal(standby.rooms.get(room)?.affiliations.get(`alice@${domain}`), "owner");
      await c.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "sb-3" }, xml("body", {}, "after")),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "sb-3");
      await standby.stop();
    });
  });
