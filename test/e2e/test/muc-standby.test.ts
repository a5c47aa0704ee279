// High availability on Prosody 0.12 (issue 19 goal 5 asks for more than one machine): Prosody has no
// clustering and accepts one connection per component domain (a second one gets the stream error
// `conflict`, XEP-0114 §3 / RFC 6120 §4.9.3.3), so the MUC runs active/standby sharing Redis: a
// standby that starts while the active instance is connected is refused (fatal, it does not take
// the domain); once the active one is gone, the standby takes the domain and serves the persistent
// room from Redis (label, affiliations, history); occupants learn it from their XEP-0410 self-ping
// (not-acceptable: not joined, §3.2) and rejoin. The ejabberd cluster is muc-cluster.test.ts.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, xml } from "@cordon/harness";
import { ALL_CLASSES as ALL, loadDemo } from "../src/demo.js";
import { joinRoom as join } from "../src/muc-client.js";
import {
  SharedRedisMuc,
  configurePersistent,
  groupchat,
  replayed,
  selfPing,
} from "../src/muc-cluster-fixture.js";

const demo = loadDemo();
const S = demo.label("SECRET");

for (const kind of serverKinds().filter((k) => k === "prosody"))
  describe(`active/standby MUC on ${kind} with shared Redis`, () => {
    const f = new SharedRedisMuc({
      demo,
      kind,
      domain: "standby.test",
      prefix: "standby-test",
      secret: "sb",
      users: { alice: ALL, bob: ALL },
      balanced: false,
    });
    const { c } = f;
    const instance = () => f.create();

    before(async () => {
      await f.setup();
      await f.connectClients();
    });

    after(() => f.teardown());

    test(`[${kind}] a standby is refused while the active instance is connected, and takes over with the room's state once it is gone`, async () => {
      const active = await instance();
      await active.start();
      const room = `ops@${f.mucDomain}`;
      await join(c.alice!, room, "Alice");
      await configurePersistent(c.alice!, room, { "sec-label#label": "SECRET" });
      await join(c.bob!, room, "Bob");
      await c.alice!.send(groupchat(room, "sb-1", "before failover", S, demo));
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
      assert.equal(await selfPing(c.bob!, `${room}/Bob`, 5000), "not-acceptable");
      const mark = c.bob!.received.length;
      await join(c.alice!, room, "Alice");
      await join(c.bob!, room, "Bob");
      assert.ok(
        replayed(c.bob!, mark).some((b) => b.endsWith("before failover")),
        "history came from Redis",
      );
      assert.equal(standby.rooms.get(room)?.affiliations.get(`alice@${f.o.domain}`), "owner");
      await c.alice!.send(
        xml("message", { to: room, type: "groupchat", id: "sb-3" }, xml("body", {}, "after")),
      );
      await c.bob!.waitFor((m) => m.attrs.id === "sb-3");
      await standby.stop();
    });
  });
