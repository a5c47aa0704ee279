// High availability on ejabberd: two MUC instances connected for the same domain, balanced by
// `domain_balancing: bare_destination` with `component_number: 2` (every stanza to a room reaches
// the instance holding the room's hash slot), sharing a real Redis. A persistent room created on
// one is known to the other. ejabberd does not move a slot to the surviving connection: when an
// instance stops, a replacement takes its free slot and serves its rooms — label, affiliations
// and history come back from Redis.
// (Prosody accepts one connection per component domain: active/standby, see packages/muc/README.md.)
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

for (const kind of serverKinds().filter((k) => k === "ejabberd")) {
  describe(`two MUC instances on ${kind} with shared Redis`, () => {
    const f = new SharedRedisMuc({
      demo,
      kind,
      domain: "ha.test",
      prefix: "ha-test",
      secret: "ha",
      users: { alice: ALL, bob: ALL },
      balanced: true,
    });
    const { c } = f;

    before(() => f.start(2));

    after(() => f.teardown());

    test(`[${kind}] both instances stay connected; a room is served by one and known to both; a replacement takes over with the room's state`, async () => {
      const room = `shared@${f.mucDomain}`;
      await join(c.alice!, room, "Alice");
      await configurePersistent(c.alice!, room, { "sec-label#label": "SECRET" });
      await join(c.bob!, room, "Bob");
      await c.alice!.send(groupchat(room, "ha-1", "before failover", S, demo));
      await c.bob!.waitFor((m) => m.attrs.id === "ha-1");
      // Exactly one instance holds the occupants (bare_destination); the standby learned the
      // persistent room from Redis.
      const { serving, other: standby } = await f.servingAndOther(room);
      assert.ok(standby.rooms.has(room));
      assert.equal(standby.rooms.get(room)!.security.label?.classification.name, "SECRET");

      await serving.stop();
      const replacement = await f.instance();
      assert.ok(replacement.rooms.has(room), "the replacement loaded the persistent room from Redis");
      // Clients find out by XEP-0410 self-ping (not-acceptable: not joined any more) and rejoin.
      assert.equal(await selfPing(c.bob!, `${room}/Bob`, 5000), "not-acceptable");
      const mark = c.bob!.received.length;
      await join(c.alice!, room, "Alice");
      await join(c.bob!, room, "Bob");
      assert.ok(
        replayed(c.bob!, mark).some((b) => b.endsWith("before failover")),
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
