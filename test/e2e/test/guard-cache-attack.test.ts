// Attacks on the guard's verdict cache (issue 17, review; packages/guard/src/verdict-cache.ts,
// deploy/prosody, deploy/ejabberd). Real servers, real clients; clients connect from 127.0.0.1 (a
// site cleared for everything) or 127.0.0.2 (an UNCLASSIFIED-only site, client-location.ts).
// - C1: a verdict cached under the key of one set of recipient sessions must have been decided
//   for exactly that set. On Prosody a sender's messages past the 32 questions in flight are held
//   and asked about later — with the recipient's sessions as they are then — while the cache key
//   was computed when the message arrived: a verdict for another set of sessions (the recipient's
//   "phone" now at the cleared site) was kept under the key of the earlier set (its "phone" at the
//   uncleared site), and once that set was back, a SECRET message reached the uncleared site.
// - C2: only the guard's own component connection can tell a module an epoch: a user's forged
//   <epoch/> IQ is refused and the cache goes on as before.
// - C4: XEP-0280 carbons of a message served from the cache: a session at the uncleared site gets
//   neither the message nor a carbon of it, a label-unaware session a carbon in FLOT (as decided).
// - C5: RFC 6120 §10.1 — a message served from the cache is not delivered before the sender's
//   earlier messages still being asked about.
// - C6: another type, xml:lang or label bytes is another question; a labelled error is never
//   served from the cache.
// - C3: a sender reconnecting with the same full JID from an uncleared site is asked about again
//   (its address is part of the key): refused.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore, type UserClearanceSource } from "@cordon/store";
import type { Element } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import { GUARD_ALL as ALL, CLEARED_SITE, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const NS_LABEL = "urn:xmpp:sec-label:0";
const NS_CARBONS = "urn:xmpp:carbons:2";
const PASSWORD = "cache-attack-pw";

const carbonOf = (m: Element) =>
  m.getChild("received", NS_CARBONS)?.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("message");
const marking = (m: Element) => m.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking");

for (const kind of serverKinds()) {
  describe(`attacks on the guard's verdict cache on ${kind} (issue 17, review)`, () => {
    const domain = `${kind}-gcattack.test`;
    const guardDomain = `guard.${domain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    let decisions = 0;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    let n = 0;
    const nextId = (p = "a") => `${p}${++n}`;
    const chat = (to: string, id: string, body: string, extra = SECRET) =>
      `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${extra}</message>`;

    // User clearances are read through a source that can be held (a slow directory): the guard's
    // decisions wait while it is, so a burst's questions stay in flight.
    let gate: Promise<void> | undefined;
    let openGate: () => void = () => undefined;
    const users: UserClearanceSource = {
      getUserClearance: async (j, p) => {
        if (gate) await gate;
        return store.getUserClearance(j, p);
      },
      subscribe: () => () => undefined, // (the store's own notifications reach the guard)
    };

    /** A session of `user` from `site`, announcing caps with or without labels. */
    const session = guarded.capsSessions(kind, () => server, open, PASSWORD);

    /** A store change nobody sent: the guard's epoch moves on (and its clearance answers are dropped). */
    async function newEpoch() {
      await store.setUserClearance(jid("carol"), demo.raw(demo.clearance([`UNCLASSIFIED`])));
      await sleep(100);
      await guard.cacheEpochTold();
    }

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol"],
          cleared: ["alice", "bob"],
          password: PASSWORD,
          // A long timeout: the held decisions below must not time out; a long cache: nothing expires.
          guard: { timeoutSeconds: 20, cacheSeconds: 60 },
        },
        { extraModules: kind === "prosody" ? ["carbons"] : ["mod_carboncopy"] },
      );
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        users,
        locations: guarded.twoSites(demo),
        onDecision: () => void decisions++,
      });
    });

    after(async () => {
      openGate();
      gate = undefined;
      await guarded.stopGuarded(server, guard, open);
    });

    test(`[${kind}] C1: a verdict is cached only under the key of the sessions it was decided for`, async () => {
      const alice = await session("alice", "desk", CLEARED_SITE, true);
      const desk = await session("bob", "desk", CLEARED_SITE, true);
      let phone = await session("bob", "phone", UNCLASSIFIED_SITE, true);

      // The set S1 (desk cleared, phone at the uncleared site): desk gets SECRET, phone nothing.
      const w = nextId("w");
      await sendRaw(alice, chat(jid("bob"), w, "warm"));
      assert.equal(marking(await desk.waitFor((m) => m.attrs.id === w, 8000)), "SECRET");

      // Decisions held; a burst of 40: on Prosody 32 asked about, 8 held with S1's key.
      gate = new Promise<void>((resolve) => (openGate = resolve));
      await newEpoch();
      const burst = Array.from({ length: 40 }, () => nextId("q"));
      await sendRaw(alice, burst.map((id) => chat(jid("bob"), id, "burst")).join(""));
      await sleep(500);

      // The phone moves to the cleared site (same resource, same client): the set S2.
      await phone.stop();
      await sleep(500);
      const moved = await session("bob", "phone", CLEARED_SITE, true);
      openGate();
      gate = undefined;
      for (const id of burst) await desk.waitFor((m) => m.attrs.id === id, 15000);
      await sleep(300);

      // And back to the uncleared site: S1 again. A SECRET message must not reach it.
      await moved.stop();
      await sleep(500);
      phone = await session("bob", "phone", UNCLASSIFIED_SITE, true);
      const leak = nextId("leak");
      await sendRaw(alice, chat(jid("bob"), leak, "for the cleared site only"));
      assert.equal(marking(await desk.waitFor((m) => m.attrs.id === leak, 8000)), "SECRET");
      await sleep(800);
      assert.deepEqual(
        phone.received.filter((m) => m.attrs.id === leak).map((m) => m.toString()),
        [],
        "nothing SECRET at the uncleared site",
      );
      // UNCLASSIFIED still reaches it (the check is not just closed).
      const ok = nextId("u");
      await sendRaw(alice, chat(jid("bob"), ok, "lunch", ""));
      await phone.waitFor((m) => m.attrs.id === ok, 8000);
      for (const c of [alice, desk, phone]) await c.stop();
    });

    test(`[${kind}] C2: a user's forged epoch is refused and changes nothing`, async () => {
      const alice = await session("alice", "desk2", CLEARED_SITE, true);
      const bob = await session("bob", "desk2", CLEARED_SITE, true);
      const send = async (body: string) => {
        const before = decisions;
        const id = nextId("e");
        await sendRaw(alice, chat(jid("bob"), id, body));
        await bob.waitFor((m) => m.attrs.id === id, 8000);
        return decisions - before;
      };
      await send("one");
      assert.equal(await send("two"), 0, "served from the cache");
      for (const to of [domain, guardDomain]) {
        const id = nextId("f");
        await sendRaw(
          alice,
          `<iq type='set' to='${to}' id='${id}'><epoch xmlns='urn:cordon:guard:0' n='forged'/></iq>`,
        );
        const answer = await alice.waitFor((m) => m.attrs.id === id, 8000);
        assert.equal(answer.attrs.type, "error", `a forged epoch to ${to} is refused`);
      }
      assert.equal(await send("three"), 0, "the cache is as it was");
      // And the guard's next real epoch still takes effect.
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await sleep(100);
      await guard.cacheEpochTold();
      const id = nextId("r");
      await sendRaw(alice, chat(jid("bob"), id, "after lowering"));
      const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
      assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
      await sleep(500);
      assert.equal(bob.received.filter((m) => m.attrs.id === id).length, 0);
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(ALL)));
      await sleep(100);
      await guard.cacheEpochTold();
      for (const c of [alice, bob]) await c.stop();
    });

    test(`[${kind}] C3: the same sender from an uncleared site is asked about again`, async () => {
      let alice = await session("alice", "roam", CLEARED_SITE, true);
      const bob = await session("bob", "desk3", CLEARED_SITE, true);
      for (const body of ["one", "two"]) {
        const id = nextId("s");
        await sendRaw(alice, chat(jid("bob"), id, body));
        await bob.waitFor((m) => m.attrs.id === id, 8000);
      }
      await alice.stop();
      await sleep(500);
      alice = await session("alice", "roam", UNCLASSIFIED_SITE, true);
      const id = nextId("s");
      await sendRaw(alice, chat(jid("bob"), id, "from home"));
      const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
      assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
      await sleep(500);
      assert.equal(bob.received.filter((m) => m.attrs.id === id).length, 0);
      for (const c of [alice, bob]) await c.stop();
    });

    test(`[${kind}] C4: carbons of a message served from the cache are each session's own form`, async () => {
      const alice = await session("alice", "desk4", CLEARED_SITE, true);
      const desk = await session("bob", "desk4", CLEARED_SITE, true, true);
      const plain = await session("bob", "plain4", CLEARED_SITE, false, true);
      const annex = await session("bob", "annex4", UNCLASSIFIED_SITE, true, true);
      const ids: string[] = [];
      for (const body of ["first", "second", "third"]) {
        const before = decisions;
        const id = nextId("k");
        ids.push(id);
        await sendRaw(alice, chat(`${jid("bob")}/desk4`, id, body));
        assert.equal((await desk.waitFor((m) => m.attrs.id === id, 8000)).getChildText("body"), body);
        const carbon = await plain.waitFor((m) => carbonOf(m)?.attrs.id === id, 8000);
        assert.equal(carbonOf(carbon)?.getChildText("body"), `SECRET\n${body}`);
        if (body !== "first") assert.equal(decisions - before, 0, "served from the cache");
      }
      await sleep(800);
      assert.deepEqual(
        annex.received
          .filter((m) => ids.includes(m.attrs.id ?? "") || ids.includes(carbonOf(m)?.attrs.id ?? ""))
          .map((m) => m.toString()),
        [],
        "nothing SECRET at the uncleared site, not even a carbon",
      );
      for (const c of [alice, desk, plain, annex]) await c.stop();
    });

    test(`[${kind}] C5: a message served from the cache does not overtake the sender's earlier ones`, async () => {
      const alice = await session("alice", "desk5", CLEARED_SITE, true);
      const bob = await session("bob", "desk5", CLEARED_SITE, true);
      // A cached key (two messages of one shape), then a burst alternating another shape — each
      // asked about (an XEP-0066 link is never cached) — with the cached one.
      for (const body of ["one", "two"]) {
        const id = nextId("o");
        await sendRaw(alice, chat(jid("bob"), id, body));
        await bob.waitFor((m) => m.attrs.id === id, 8000);
      }
      const oob = `<x xmlns='jabber:x:oob'><url>https://example.test/</url></x>`;
      const ids = Array.from({ length: 20 }, () => nextId("o"));
      await sendRaw(
        alice,
        ids.map((id, i) => chat(jid("bob"), id, `n${i}`, i % 2 === 0 ? SECRET + oob : SECRET)).join(""),
      );
      for (const id of ids) await bob.waitFor((m) => m.attrs.id === id, 8000);
      const order = bob.received.map((m) => m.attrs.id).filter((id) => ids.includes(id ?? ""));
      assert.deepEqual(order, ids, "RFC 6120 §10.1: delivered in the order sent");
      for (const c of [alice, bob]) await c.stop();
    });

    test(`[${kind}] C6: another type, xml:lang or label bytes is another question`, async () => {
      const alice = await session("alice", "desk6", CLEARED_SITE, true);
      const bob = await session("bob", "desk6", CLEARED_SITE, true);
      const msg = (id: string, attrs: string, label = SECRET) =>
        `<message to='${jid("bob")}' id='${id}' ${attrs}><body>same</body>${label}</message>`;
      const asked = async (attrs: string, label = SECRET) => {
        const before = decisions;
        const id = nextId("t");
        await sendRaw(alice, msg(id, attrs, label));
        await bob.waitFor((m) => m.attrs.id === id, 8000);
        return decisions - before;
      };
      await asked("type='chat'");
      assert.equal(await asked("type='chat'"), 0, "the same question: cached");
      assert.equal(await asked("type='normal'"), 1, "another type: asked");
      assert.equal(await asked("type='headline'"), 1, "another type: asked");
      assert.equal(await asked("type='chat' xml:lang='de'"), 1, "another xml:lang: asked");
      // The same label, other bytes (whitespace): asked; its marking is still the policy's.
      const spaced = SECRET.replace("<label>", "<label> ");
      assert.notEqual(spaced, SECRET);
      assert.equal(await asked("type='chat'", spaced), 1, "other label bytes: asked");
      // A labelled error of the same shape is never served from the cache: dropped by the guard.
      const before = decisions;
      const id = nextId("t");
      await sendRaw(alice, msg(id, "type='error'"));
      await sleep(800);
      assert.equal(decisions - before, 1, "asked about");
      assert.equal(bob.received.filter((m) => m.attrs.id === id).length, 0, "a labelled error is dropped");
      for (const c of [alice, bob]) await c.stop();
    });
  });
}
