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
import { serverKinds } from "@cordon/harness";
import { ALL_CLASSES as ALL, loadDemo } from "../src/demo.js";
import { joinRoom as join, statusCodes } from "../src/muc-client.js";
import { SharedRedisMuc, configurePersistent, groupchat, sleep } from "../src/muc-cluster-fixture.js";

const demo = loadDemo();
const S = demo.label("SECRET");

for (const kind of serverKinds().filter((k) => k === "ejabberd")) {
  describe(`cluster attack: operator actions on the instance not holding the room, ${kind}`, () => {
    const f = new SharedRedisMuc({
      demo,
      kind,
      domain: "hatk.test",
      prefix: "hatk-test",
      secret: "ha",
      users: { alice: ALL, bob: ALL, carol: ALL.slice(0, 4) },
      balanced: true,
    });
    const { c } = f;

    before(() => f.start(2));

    after(() => f.teardown());

    test(`[${kind}] destroyed through the other instance: the occupants are told and the room is served nowhere`, async () => {
      const room = `doomed@${f.mucDomain}`;
      await join(c.alice!, room, "Alice");
      await configurePersistent(c.alice!, room, { "sec-label#label": "SECRET" });
      await join(c.bob!, room, "Bob");
      // One instance holds the occupants.
      const { serving, other } = await f.servingAndOther(room);
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
      await c.alice!.send(groupchat(room, "after-destroy", "still here?", S, demo));
      await sleep(1000);
      assert.ok(!c.bob!.received.slice(mark).some((m) => m.attrs.id === "after-destroy"));
    });

    test(`[${kind}] held: relabelled through the other instance, the holder removes the occupant no longer cleared`, async () => {
      const room = `relabel@${f.mucDomain}`;
      await join(c.alice!, room, "Alice");
      await configurePersistent(c.alice!, room, { "sec-label#label": "SECRET" });
      await join(c.carol!, room, "Carol");
      const { serving, other } = await f.servingAndOther(room);
      await other.operator.relabel(room, { customLabel: demo.labelXml(demo.label("TOP SECRET")) });
      const removed = await c.carol!.waitFor(
        (p) =>
          p.is("presence") &&
          p.attrs.type === "unavailable" &&
          p.attrs.from === `${room}/Carol` &&
          statusCodes(p).includes("307"),
        5000,
      );
      assert.ok(removed);
      assert.equal(serving.rooms.get(room)?.security.label?.classification.name, "TOP SECRET");
      const mark = c.carol!.received.length;
      await c.alice!.send(groupchat(room, "ts-1", "top", demo.label("TOP SECRET"), demo));
      await sleep(1000);
      assert.ok(!c.carol!.received.slice(mark).some((m) => m.attrs.id === "ts-1"));
    });
  });
}
