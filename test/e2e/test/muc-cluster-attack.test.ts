// Adversarial review of `components.muc.cluster` (issue 19): an operator action on the instance
// that does NOT hold a room's slot. The clustered admin API operates on a room "where its occupants
// are, else on the primary" (cli runners/muc-cluster-ops.ts): asked on the other process, `destroy`
// destroyed that instance's idle copy and deleted the record, reported success, and the instance
// holding the room kept it live (room sync: "deleted elsewhere: keep the live state") — its
// occupants went on talking. Now the holder destroys it too (XEP-0045 §10.9). ejabberd with
// domain_balancing (two instances, one Redis), as test/muc-ha.test.ts. Held: a relabel through the
// other instance reaches the holder, which removes the occupant no longer cleared (307).
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
  describe(`cluster attack: operator actions on the instance not holding the room, ${kind}`, () => {
    const domain = "hatk.test";
    const mucDomain = `rooms.${domain}`;
    let server: XmppServer;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    const stores: RedisStore[] = [];
    const instances: MucService[] = [];
    const c: Record<string, TestClient> = {};

    const instance = async () => {
      const store = new RedisStore({ url: redis.url, prefix: "hatk-test" });
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

        users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: `${u}-pw` })),
      });
      const seed = new RedisStore({ url: redis.url, prefix: "hatk-test" });
      await seed.ready(5000);
      await seed.setUserClearance(`alice@${domain}`, demo.raw(demo.clearance(ALL)));
      await seed.setUserClearance(`bob@${domain}`, demo.raw(demo.clearance(ALL)));
      await seed.setUserClearance(`carol@${domain}`, demo.raw(demo.clearance(ALL.slice(0, 4))));
      await seed.close();
      await instance();
      await instance();
      for (const u of ["alice", "bob", "carol"]) c[u] = await connectClient(server, u, `${u}-pw`);
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      for (const muc of instances) await muc.stop().catch(() => undefined);
      for (const store of stores) await store.close().catch(() => undefined);
      await server?.stop();
      await redis?.stop();
    });

    test(`[${kind}] destroyed through the other instance: the occupants are told and the room is served nowhere`, async () => {
      const room = `doomed@${mucDomain}`;
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
      const owners = instances.filter((m) => (m.rooms.get(room)?.size ?? 0) > 0);
      assert.equal(owners.length, 1, "one instance holds the occupants");
      const serving = owners[0]!;
      const other = instances.find((m) => m !== serving)!;
      const deadline = Date.now() + 3000;
      while (!other.rooms.has(room) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(other.rooms.has(room), "the other instance knows the persistent room from Redis");
      // The operator's destroy lands on the other process (its admin API: no occupants there).
      const result = await other.operator.destroy(room, "taken down");
      assert.equal(result.occupants, 0);
      // Bob is told the room is gone (XEP-0045 §10.9) by the instance holding it.
      const gone = await c.bob!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.type === "unavailable" &&
          p.attrs.from === `${room}/Bob` &&
          p.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("destroy") !== undefined,
        5000,
      );
      assert.ok(gone);
      assert.equal(serving.rooms.has(room), false, "the holder serves it no more");
      // Nothing Alice sends reaches Bob.
      const mark = c.bob!.received.length;
      await c.alice!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "after-destroy" },
          xml("body", {}, "still here?"),
          parseElement(demo.labelXml(S)),
        ),
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(!c.bob!.received.slice(mark).some((m) => m.attrs.id === "after-destroy"));
    });

    test(`[${kind}] held: relabelled through the other instance, the holder removes the occupant no longer cleared`, async () => {
      const room = `relabel@${mucDomain}`;
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
      await join(c.carol!, room, "Carol");
      const serving = instances.find((m) => (m.rooms.get(room)?.size ?? 0) > 0)!;
      const other = instances.find((m) => m !== serving)!;
      const deadline = Date.now() + 3000;
      while (!other.rooms.has(room) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await other.operator.relabel(room, { customLabel: demo.labelXml(demo.label("TOP SECRET")) });
      const removed = await c.carol!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.type === "unavailable" &&
          p.attrs.from === `${room}/Carol` &&
          (p
            .getChild("x", "http://jabber.org/protocol/muc#user")
            ?.getChildren("status")
            .some((st) => st.attrs.code === "307") ??
            false),
        5000,
      );
      assert.ok(removed);
      assert.equal(serving.rooms.get(room)?.security.label?.classification.name, "TOP SECRET");
      const mark = c.carol!.received.length;
      await c.alice!.send(
        xml(
          "message",
          { to: room, type: "groupchat", id: "ts-1" },
          xml("body", {}, "top"),
          parseElement(demo.labelXml(demo.label("TOP SECRET"))),
        ),
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(!c.carol!.received.slice(mark).some((m) => m.attrs.id === "ts-1"));
    });
  });
}
