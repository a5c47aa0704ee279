// The central check (issue 17) across the module's own life and a verdict's: real servers, real
// clients.
// - ST1 (ejabberd): messages parked (single flight: waiting on another message's question with the
//   same key) when the module stops — gen_mod:stop_module/2, as a restart or shutdown does — are
//   each refused with `wait` (RFC 6120 §8.3.2), carrying nothing of the message; the message in
//   flight is refused too when its answer finds the module stopped (its per-session forms could no
//   longer be applied). Nothing is delivered. Before: the parked ones were lost without a word and
//   the answer to the one in flight crashed in ejabberd_iq (no error either).
// - ST2 (ejabberd): the same when the process holding the parked messages dies (killed): the
//   undertaker (its table's ETS heir) refuses each with `wait`; the one in flight is decided.
// - ST3 (ejabberd): a decided message still in a session process's mailbox when the module stops
//   (the process busy) reaches it as a bare envelope, never in a form the guard did not give that
//   session. Before: the labelled form, SECRET at a site cleared for UNCLASSIFIED only.
// - ST4 (ejabberd): stopped during a burst from four senders: each message delivered whole or
//   refused with `wait`; no hook of the module left (before: the global component hooks stayed).
// - EX1: a verdict that expires while a message waits behind the sender's earlier message (held
//   for the guard's answer) is not used when the message's turn comes: it is asked about again.
//   ejabberd asks at once (a cached verdict is never used while one of the sender's messages is
//   in flight) and held before; Prosody's queued path (deploy/prosody/modules/mod_cordon_guard.lua,
//   the entry found at arrival and applied in its turn) checks the expiry in its turn too, and
//   refuses an expired one with `wait` (asking then would break the session's message order).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { UNCLASSIFIED_SITE, settled, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "lifecycle-pw";

for (const kind of serverKinds()) {
  describe(`the central check across the module's life on ${kind} (issue 17)`, () => {
    const domain = `${kind}-lifecycle.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const chat = (to: string, id: string, body: string) =>
      `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`;
    // The guard's decisions for the held user wait for `held.open()` (the clearance read, then held).
    const held = new guarded.ClearanceGate();
    const users = held.users(store);
    let decisions = 0;

    async function startGuard() {
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        users,
        onDecision: () => void decisions++,
        // ST3: a site cleared for UNCLASSIFIED only (client-location.ts); every other test connects from 127.0.0.1.
        locations: guarded.twoSites(demo),
      });
    }

    const session = (user: string, resource: string, localAddress?: string) =>
      guarded.openSession(server, open, PASSWORD, user, resource, localAddress);

    /** Each of `ids` refused to `from` with `wait`, naming nothing of the message. */
    function refusedWithWait(from: TestClient, ids: string[]) {
      for (const id of ids) {
        const error = from.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
        assert.equal(error?.getChild("error")?.attrs.type, "wait", `${id} refused with wait`);
        const text = error!.toString();
        assert.ok(!/plans|securitylabel|SECRET/.test(text), `the error echoes nothing: ${text}`);
      }
    }

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob", "carol", "dan", "erin", "frank", "gina", "s1", "s2", "s3", "s4"],
        password: PASSWORD,
        // A verdict kept 1 s (EX1 waits past it).
        guard: { timeoutSeconds: 4, cacheSeconds: 1 },
      });
      await startGuard();
    });

    after(async () => {
      await guarded.stopGuarded(server, guard, open);
    });

    test(
      `[${kind}] EX1: a verdict that expired while the message waited its turn is not used — asked about again (ejabberd) or refused with wait (Prosody)`,
      {},
      async () => {
        const alice = await session("alice", "ex1");
        const bob = await session("bob", "b");
        const carol = await session("carol", "c");
        // Kept: bob's verdict, served from the cache the second time.
        for (const i of [0, 1]) {
          const before = decisions;
          await sendRaw(alice, chat(jid("bob"), `ex1w${i}`, "warm"));
          await bob.waitFor((m) => m.attrs.id === `ex1w${i}`, 8000);
          if (i === 1) assert.equal(decisions - before, 0, "served from the cache");
        }
        // A message to carol held for its decision, then one to bob (its verdict still kept) behind it.
        held.hold(jid("carol"));
        const before = decisions;
        await sendRaw(alice, chat(jid("carol"), "ex1c", "plans") + chat(jid("bob"), "ex1b", "plans"));
        await sleep(1800); // bob's kept verdict (1 s) expires meanwhile
        held.open();
        await carol.waitFor((m) => m.attrs.id === "ex1c", 8000);
        if (kind === "ejabberd") {
          await bob.waitFor((m) => m.attrs.id === "ex1b", 8000);
          assert.equal(decisions - before, 2, "both asked about: the expired verdict was not used");
        } else {
          // Prosody refuses it in its turn rather than asking out of the session's order.
          const refused = await alice.waitFor((m) => m.attrs.id === "ex1b" && m.attrs.type === "error", 8000);
          assert.equal(refused.getChild("error")?.attrs.type, "wait");
          assert.ok(!refused.toString().includes("plans"), "nothing of the message in the error");
          await sleep(300);
          assert.ok(
            !bob.received.some((m) => m.attrs.id === "ex1b"),
            "not delivered from the expired verdict",
          );
        }
        await alice.stop();
      },
    );

    if (kind === "ejabberd") {
      const host = `<<"${domain}">>`;
      const stopModule = () => server.evalErlang(`gen_mod:stop_module(${host}, mod_cordon_guard).`);
      const startModule = async () => {
        assert.match(await server.evalErlang(`gen_mod:start_module(${host}, mod_cordon_guard).`), /ok/);
        await sleep(300);
        // (The guard tells its epoch when it connects: a new link, as after a restart.)
        await guard.stop();
        await startGuard();
      };

      test(`[${kind}] ST1: the module stopped while messages wait on a question — each refused with wait, none delivered`, async () => {
        const alice = await session("alice", "st1");
        const dan = await session("dan", "d");
        held.hold(jid("dan"));
        const ids = Array.from({ length: 6 }, (_, i) => `st1-${i}`);
        await sendRaw(alice, ids.map((id) => chat(jid("dan"), id, `plans ${id}`)).join(""));
        await sleep(800); // the first asked about (held by the guard), the rest parked on it
        assert.match(await stopModule(), /ok/);
        held.open();
        await settled(alice, dan, ids);
        await sleep(500);
        assert.deepEqual(
          dan.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id),
          [],
          "nothing delivered",
        );
        refusedWithWait(alice, ids);
        await startModule();
        await sendRaw(alice, chat(jid("dan"), "st1-back", "plans"));
        await dan.waitFor((m) => m.attrs.id === "st1-back", 8000);
        await alice.stop();
      });

      // ST3: a message decided for each session of its recipient — the labelled form for one at a
      // cleared site, nothing for one at an UNCLASSIFIED-only site — and still in that session
      // process's queue when the module stops (the process busy: here held with sys:suspend, as a
      // session waiting on a sent carbon's question or on a slow socket is). Before: the form hook
      // gone, the queued message reached the uncleared session in the labelled form. Now: a decided
      // message travels to the sessions without its content (kept in its meta, put back by each
      // session's form); without the module the session gets nothing of it.
      test(`[${kind}] ST3: a decided message still queued for a session when the module stops never reaches it in a form it may not have`, async () => {
        const alice = await session("alice", "st3");
        const desk = await session("frank", "desk");
        const annex = await session("frank", "annex", UNCLASSIFIED_SITE);
        const pid = `{_, P} = ejabberd_sm:get_session_sid(<<"frank">>, ${host}, <<"annex">>)`;
        assert.match(await server.evalErlang(`${pid}, sys:suspend(P), ok.`), /ok/);
        try {
          await sendRaw(alice, chat(jid("frank"), "st3-1", "plans st3"));
          await desk.waitFor((m) => m.attrs.id === "st3-1", 8000);
          await sleep(300);
          assert.match(await stopModule(), /ok/);
        } finally {
          await server.evalErlang(`${pid}, sys:resume(P), ok.`);
        }
        await sleep(1000);
        const leaked = annex.received.filter(
          (m) => m.attrs.id === "st3-1" || /plans|securitylabel|SECRET/.test(m.toString()),
        );
        assert.deepEqual(
          leaked.filter((m) => /plans|securitylabel|SECRET/.test(m.toString())).map((m) => m.toString()),
          [],
          "nothing of the message reaches the uncleared session",
        );
        await startModule();
        // The service goes on: the annex still gets what it may have, the desk the rest.
        await sendRaw(
          alice,
          `<message to='${jid("frank")}' id='st3-u' type='chat'><body>lunch</body></message>`,
        );
        await annex.waitFor((m) => m.attrs.id === "st3-u", 8000);
        await sendRaw(alice, chat(jid("frank"), "st3-2", "plans"));
        await desk.waitFor((m) => m.attrs.id === "st3-2", 8000);
        await sleep(500);
        assert.equal(
          annex.received.filter((m) => m.attrs.id === "st3-2").length,
          0,
          "the annex: nothing SECRET",
        );
        await alice.stop();
      });

      // ST4: an admin stops the module during a burst from many senders, the guard slow: every
      // message is delivered whole or refused to its sender with `wait` (none lost without a word,
      // none half-delivered), none of the module's hooks is left behind, and it starts again.
      test(`[${kind}] ST4: stopped during a burst from many senders — each message delivered whole or refused with wait; no hook left; starts again`, async () => {
        const hooks = () =>
          server.evalErlang(
            "[K || {K, L} <- ets:tab2list(hooks), is_list(L), lists:any(fun(E) -> is_tuple(E) andalso lists:member(mod_cordon_guard, tuple_to_list(E)) end, L)].",
          );
        assert.match(await hooks(), /sm_receive_packet/, "the module's hooks are found while it runs");
        const gina = await session("gina", "g");
        const senders = await Promise.all(["s1", "s2", "s3", "s4"].map((u) => session(u, "burst")));
        held.hold(jid("gina"));
        const ids = new Map<TestClient, string[]>();
        const sending = senders.map(async (sender, n) => {
          const mine = Array.from({ length: 8 }, (_, i) => `st4-${n}-${i}`);
          ids.set(sender, mine);
          for (const id of mine) {
            await sendRaw(sender, chat(jid("gina"), id, `plans ${id}`));
            await sleep(20);
          }
        });
        await sleep(150);
        // Some decided (the gate opened a moment), the rest held or parked when the module stops.
        held.open();
        await sleep(30);
        held.hold(jid("gina"));
        await Promise.all(sending);
        await sleep(300);
        assert.match(await stopModule(), /ok/);
        held.open();
        assert.equal((await hooks()).trim(), "[]", "no hook of the module left");
        for (const sender of senders) await settled(sender, gina, ids.get(sender)!);
        await sleep(500);
        for (const sender of senders)
          for (const id of ids.get(sender)!) {
            const got = gina.received.filter((m) => m.attrs.id === id);
            const refused = sender.received.some((m) => m.attrs.id === id && m.attrs.type === "error");
            assert.ok(got.length <= 1, `${id} delivered once at most`);
            if (got.length === 1)
              // (No caps announced: the FLOT form, the marking as the first line.)
              assert.equal(got[0]!.getChildText("body"), `SECRET\nplans ${id}`, `${id} whole`);
            assert.ok(got.length === 1 || refused, `${id}: delivered or refused`);
            if (refused) refusedWithWait(sender, [id]);
          }
        await startModule();
        assert.match(await hooks(), /component_connected/, "the hooks are back");
        await sendRaw(senders[0]!, chat(jid("gina"), "st4-back", "plans"));
        await gina.waitFor((m) => m.attrs.id === "st4-back", 8000);
        for (const sender of senders) await sender.stop();
      });

      test(`[${kind}] ST2: the process holding parked messages killed — each refused with wait; the one asked about decided`, async () => {
        const alice = await session("alice", "st2");
        const erin = await session("erin", "e");
        held.hold(jid("erin"));
        const ids = Array.from({ length: 6 }, (_, i) => `st2-${i}`);
        await sendRaw(alice, ids.map((id) => chat(jid("erin"), id, `plans ${id}`)).join(""));
        await sleep(800);
        await server.evalErlang(`exit(persistent_term:get({mod_cordon_guard, cache_owner, ${host}}), kill).`);
        await sleep(300);
        held.open();
        await settled(alice, erin, ids);
        await sleep(500);
        assert.deepEqual(
          erin.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id),
          [ids[0]],
          "only the message asked about delivered",
        );
        refusedWithWait(alice, ids.slice(1));
        assert.match(await stopModule(), /ok/);
        await startModule();
        await sendRaw(alice, chat(jid("erin"), "st2-back", "plans"));
        await erin.waitFor((m) => m.attrs.id === "st2-back", 8000);
        await alice.stop();
      });
    }
  });
}
