// Adversarial review of the verdict-cache renewal (issue 17, session 17: branch renew17 — a
// refresh asked in the last half of a verdict's life is its key's flight; messages finding the
// verdict expired wait on it: ejabberd parks them with the table's owner, Prosody queues them).
// What must hold while a refresh is out and messages wait on it, on both servers:
// - RA1: the refresh answered with a refusal (the recipient lowered without a notification: no new
//   epoch, the guard's answer alone says so) — none of the waiting messages is delivered under the
//   verdict refreshed; each is asked about on its own (refused) or refused with `wait`.
// - RA2: the recipient lowered and the new epoch told while the refresh is out (its decision
//   started in the old epoch) — its answer is not kept, none of the waiting messages is delivered,
//   and the very next message is refused.
// - RA3: the module restarted while a refresh is out (ejabberd gen_mod stop/start, Prosody
//   module:reload), then a new question of the same key with messages waiting on it: the old
//   instance's refresh, answered, must not land the new instance's flight — before (ejabberd), its
//   landing took the new flight: the waiting messages were refused with `wait` (or handed on before
//   the question they waited on was delivered, RFC 6120 §10.1), and the sender's count of messages
//   in flight stayed at one for good, so nothing of the sender was served from the cache again.
// - RA4 (the same restart, a question outside any flight): the old instance's question, answered
//   after the restart (ejabberd; Prosody refuses it at the reload), must not count down a message of the new instance's — before (ejabberd), it
//   did: the sender's count in flight fell to none while its message to bob was still asked about,
//   and its next message to bob, served from the cache, overtook it (RFC 6120 §10.1).
// - RA5: the recipient's sessions change while the refresh is out (a second session bound at a
//   site cleared for UNCLASSIFIED only, after a message parked on the refresh): the renewed verdict,
//   decided for the one session, covers no other — the new session gets none of the SECRET messages,
//   neither the one that waited on the refresh nor the ones after (another key: asked about).
// - RA6: a message served from the cache in its turn, behind an earlier message of the sender still
//   asked about (Prosody: queued, the verdict found at arrival; ejabberd: asked, one of the sender's
//   in flight), whose verdict's refresh is refused before its turn (lowered, no notification): not
//   delivered under the verdict removed. (Its turn before the refresh's answer: served from the
//   verdict still valid — the residual window of a change Cordon is not told of, at most the TTL.)
// - RA7: the guard gone while a refresh is out and messages wait on it: each refused with `wait`,
//   none delivered (fail closed); with a guard back, messages flow again.
// Asserted by outcomes only (who received what, which errors), never by time.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore, type StoreListener } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";
import { GUARD_ALL, UNCLASSIFIED_SITE, settled, sleep } from "../src/guard-fixture.js";
import type { UserClearanceSource } from "@cordon/store";
import { connectWithPresence } from "../src/stream-fixture.js";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const demo = loadDemo();
const PASSWORD = "renew-attack-pw";
const CACHE_SECONDS = 4;

for (const kind of serverKinds()) {
  describe(`the verdict cache's renewal under attack on ${kind} (issue 17)`, () => {
    const domain = `${kind}-grenew.test`;
    const jid = (u: string) => `${u}@${domain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    // The guard hears the store's notifications only while `heard` (a directory edited without one).
    let heard = true;
    const quiet = new Proxy(store, {
      get(target, key) {
        if (key === "subscribe")
          return (listener: StoreListener) => target.subscribe((e) => void (heard && listener(e)));
        if (key === "notificationsHeard") return () => Promise.resolve();
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    // Each read of a held user's clearance waits until opened, then reads it as it is then.
    const held = new Map<string, { wait: Promise<void>; open: () => void }>();
    const gate = {
      hold(who: string) {
        let open = () => undefined as void;
        const wait = new Promise<void>((r) => (open = r));
        held.set(who, { wait, open });
      },
      open(who?: string) {
        for (const [w, h] of held) {
          if (who !== undefined && w !== who) continue;
          h.open();
          held.delete(w);
        }
      },
    };
    const gatedUsers: UserClearanceSource = {
      getUserClearance: async (who, policy) => {
        await held.get(who)?.wait;
        return quiet.getUserClearance(who, policy);
      },
      subscribe: (listener) => quiet.subscribe(listener),
    };
    let guard: GuardService;
    let decisions = 0;
    let refreshes = 0;
    let bumps = 0;
    const open: TestClient[] = [];
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const chat = (id: string) =>
      `<message to='${jid("bob")}' id='${id}' type='chat'><body>renew ${id}</body>${SECRET}</message>`;

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol"],
          password: PASSWORD,
          guard: { timeoutSeconds: 20, cacheSeconds: CACHE_SECONDS },
        },
        kind === "prosody" ? { extraModules: ["admin_shell"] } : {},
      );
      guard = await startTheGuard();
      open.push(...(await connectWithPresence(server, ["alice", "bob", "carol"], PASSWORD)));
      await guard.cacheEpochTold();
    });

    const startTheGuard = () =>
      guarded.startGuard(
        demo,
        server,
        domain,
        {
          store: quiet,
          // readFirst false: a held read waits, then reads the clearance as it is once opened.
          users: gatedUsers,
          locations: guarded.twoSites(demo),
          onDecision: (_a, _r, refresh) => void (refresh ? refreshes++ : decisions++),
        },
        false,
      );

    after(() => guarded.stopGuarded(server, guard, open));

    /** A verdict kept, then a message in its last half of life (a refresh asked, held by the gate). */
    async function refreshHeld(
      tag: string,
    ): Promise<{ alice: TestClient; bob: TestClient; expires: number }> {
      const [alice, bob] = open as [TestClient, TestClient];
      // A new epoch first: nothing kept by an earlier test.
      bumps++;
      await store.setUserClearance(
        jid("dave"),
        demo.raw(demo.clearance(GUARD_ALL.slice(0, 1 + (bumps % 3)))),
      );
      await guard.cacheEpochTold();
      const asked = decisions;
      await sendRaw(alice, chat(`${tag}-warm`));
      await bob.waitFor((m) => m.attrs.id === `${tag}-warm`, 15_000);
      assert.equal(decisions - asked, 1, "the first asked");
      const kept = Date.now();
      await sleep(CACHE_SECONDS * 1000 * 0.65);
      gate.hold(jid("bob"));
      const r = refreshes;
      await sendRaw(alice, chat(`${tag}-served`));
      await bob.waitFor((m) => m.attrs.id === `${tag}-served`, 15_000);
      assert.equal(decisions - asked, 1, "served from the cache");
      assert.equal(refreshes, r, "the refresh not decided yet (held)");
      return { alice, bob, expires: kept + CACHE_SECONDS * 1000 };
    }

    test(`[${kind}] RA1: a refresh refused (lowered, no notification) while messages wait on it: none delivered`, async () => {
      const { alice, bob, expires } = await refreshHeld("ra1");
      heard = false;
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await sleep(Math.max(0, expires - Date.now()) + 400);
      const waiting = ["ra1-a", "ra1-b", "ra1-c"];
      await sendRaw(alice, waiting.map(chat).join(""));
      await sleep(500);
      gate.open();
      await settled(alice, bob, waiting, 30_000);
      const late = bob.received.filter((m) => waiting.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      assert.deepEqual(late, [], "none delivered under the verdict the refresh refused");
      for (const id of waiting)
        assert.ok(
          alice.received.some((m) => m.attrs.id === id && m.attrs.type === "error"),
          `${id} refused`,
        );
      await sendRaw(alice, chat("ra1-next"));
      await settled(alice, bob, ["ra1-next"], 30_000);
      assert.ok(!bob.received.some((m) => m.attrs.id === "ra1-next"), "the next one refused");
      heard = true;
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(GUARD_ALL)));
      await guard.cacheEpochTold();
    });

    test(`[${kind}] RA2: lowered and the new epoch told while the refresh is out: its answer not kept, none waiting delivered`, async () => {
      const { alice, bob, expires } = await refreshHeld("ra2");
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await guard.cacheEpochTold();
      await sleep(Math.max(0, expires - Date.now()) + 400);
      const waiting = ["ra2-a", "ra2-b", "ra2-c"];
      await sendRaw(alice, waiting.map(chat).join(""));
      await sleep(500);
      gate.open();
      await settled(alice, bob, waiting, 30_000);
      const late = bob.received.filter((m) => waiting.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      assert.deepEqual(late, [], "none delivered after the lowering was told");
      await sendRaw(alice, chat("ra2-next"));
      await settled(alice, bob, ["ra2-next"], 30_000);
      assert.ok(!bob.received.some((m) => m.attrs.id === "ra2-next"), "the next one refused");
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(GUARD_ALL)));
      await guard.cacheEpochTold();
    });

    /** The module stopped and started again (a restart), its cache and flights afresh. */
    async function restart(): Promise<void> {
      if (kind === "ejabberd") {
        assert.match(
          await server.evalErlang(`gen_mod:stop_module(<<"${domain}">>, mod_cordon_guard).`),
          /ok/,
        );
        assert.match(
          await server.evalErlang(`gen_mod:start_module(<<"${domain}">>, mod_cordon_guard).`),
          /ok/,
        );
      } else {
        await promisify(execFile)(
          "prosodyctl",
          [
            "--config",
            join(server.dir, "prosody.cfg.lua"),
            "shell",
            `module:reload("cordon_guard", "${domain}")`,
          ],
          { timeout: 10_000 },
        );
      }
    }

    test(`[${kind}] RA3: restarted while a refresh is out; its answer does not land the new instance's flight`, async () => {
      const { alice, bob } = await refreshHeld("ra3");
      await restart();
      // A new epoch told to the new instance (any store change): it keeps verdicts again.
      await store.setUserClearance(jid("dave"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await guard.cacheEpochTold();
      // The first asked (held at the gate, as the old refresh is), the others wait on it.
      const ids = ["ra3-a", "ra3-b", "ra3-c"];
      await sendRaw(alice, ids.map(chat).join(""));
      await sleep(800);
      gate.open();
      await settled(alice, bob, ids, 30_000);
      const got = bob.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      const refused = alice.received.filter(
        (m) => ids.includes(m.attrs.id ?? "") && m.attrs.type === "error",
      );
      assert.deepEqual(got, ids, "each delivered once, in the order sent");
      assert.equal(refused.length, 0, "none refused");
      // The sender's count of messages in flight back to none: served from the verdict kept.
      const asked = decisions;
      await sendRaw(alice, chat("ra3-next"));
      await bob.waitFor((m) => m.attrs.id === "ra3-next", 15_000);
      assert.equal(decisions - asked, 0, "the next one served from the cache");
    });

    test(`[${kind}] RA4: restarted while a question is out; its answer counts down nothing of the new instance's`, async () => {
      const [alice, bob, carol] = open as [TestClient, TestClient, TestClient];
      // A question outside any flight (a subject: no cache key), held at the gate.
      gate.hold(jid("carol"));
      await sendRaw(
        alice,
        `<message to='${jid("carol")}' id='ra4-q' type='chat'><subject>s</subject><body>q</body></message>`,
      );
      await sleep(800);
      await restart();
      await store.setUserClearance(jid("dave"), demo.raw(demo.clearance(["RESTRICTED"])));
      await guard.cacheEpochTold();
      // A verdict kept by the new instance (SECRET to bob), then a message of another key to bob held.
      await sendRaw(alice, chat("ra4-warm"));
      await bob.waitFor((m) => m.attrs.id === "ra4-warm", 15_000);
      gate.hold(jid("bob"));
      await sendRaw(
        alice,
        `<message to='${jid("bob")}' id='ra4-first' type='chat'><body>first</body></message>`,
      );
      await sleep(800);
      // The old question answered and delivered; then the cached key again.
      gate.open(jid("carol"));
      // (Delivered by ejabberd's new instance; refused with `wait` by Prosody's reload: RL1.)
      await settled(alice, carol, ["ra4-q"], 15_000);
      await sendRaw(alice, chat("ra4-second"));
      await sleep(800);
      gate.open();
      const ids = ["ra4-first", "ra4-second"];
      await settled(alice, bob, ids, 30_000);
      const got = bob.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      assert.deepEqual(got, ids, "delivered once each, in the order sent (RFC 6120 §10.1)");
    });

    test(`[${kind}] RA5: a session bound at an uncleared site while the refresh is out gets nothing of it`, async () => {
      const { alice, bob, expires } = await refreshHeld("ra5");
      await sleep(Math.max(0, expires - Date.now()) + 400);
      // Waits on the refresh (the verdict expired, the same key).
      await sendRaw(alice, chat("ra5-parked"));
      await sleep(500);
      const annex = await guarded.openSession(server, open, PASSWORD, "bob", "annex", UNCLASSIFIED_SITE);
      await sleep(500);
      const after = ["ra5-after-a", "ra5-after-b"];
      await sendRaw(alice, after.map(chat).join(""));
      await sleep(500);
      gate.open();
      const ids = ["ra5-parked", ...after];
      await settled(alice, bob, ids, 30_000);
      await sleep(500);
      const got = bob.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      assert.deepEqual(got, ids, "the cleared session: each once, in order");
      const leaked = annex.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      assert.deepEqual(leaked, [], "the uncleared session: none of them");
      await annex.stop();
      open.splice(open.indexOf(annex), 1);
    });

    test(`[${kind}] RA6: a cached message queued behind an asked one, its verdict's refresh refused meanwhile: not delivered`, async () => {
      const [alice, bob, carol] = open as [TestClient, TestClient, TestClient];
      bumps++;
      await store.setUserClearance(
        jid("dave"),
        demo.raw(demo.clearance(GUARD_ALL.slice(0, 1 + (bumps % 3)))),
      );
      await guard.cacheEpochTold();
      await sendRaw(alice, chat("ra6-warm"));
      await bob.waitFor((m) => m.attrs.id === "ra6-warm", 15_000);
      await sleep(CACHE_SECONDS * 1000 * 0.65);
      gate.hold(jid("carol"));
      gate.hold(jid("bob"));
      // An earlier message asked about (to carol, held), then the cached key (its refresh asked, held).
      const r = refreshes;
      await sendRaw(
        alice,
        `<message to='${jid("carol")}' id='ra6-first' type='chat'><body>first</body></message>` +
          chat("ra6-cached"),
      );
      await sleep(500);
      heard = false;
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      // bob's reads first: the refresh refused (Prosody) / the message itself decided (ejabberd).
      gate.open(jid("bob"));
      const refused = () =>
        alice.received.some((m) => m.attrs.id === "ra6-cached" && m.attrs.type === "error");
      for (let t = 0; t < 150 && refreshes === r && !refused(); t++) await sleep(100);
      gate.open();
      await settled(alice, carol, ["ra6-first"], 30_000);
      await settled(alice, bob, ["ra6-cached"], 30_000);
      assert.ok(
        carol.received.some((m) => m.attrs.id === "ra6-first"),
        "the earlier one delivered",
      );
      assert.ok(
        !bob.received.some((m) => m.attrs.id === "ra6-cached"),
        "not delivered under the verdict removed",
      );
      assert.ok(refused(), "refused");
      heard = true;
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(GUARD_ALL)));
      await guard.cacheEpochTold();
    });

    test(`[${kind}] RA7: the guard gone while a refresh is out and messages wait on it: refused with wait, none delivered`, async () => {
      const { alice, bob, expires } = await refreshHeld("ra7");
      await sleep(Math.max(0, expires - Date.now()) + 400);
      const waiting = ["ra7-a", "ra7-b"];
      await sendRaw(alice, waiting.map(chat).join(""));
      await sleep(500);
      await guard.stop();
      await sendRaw(alice, chat("ra7-down"));
      const ids = [...waiting, "ra7-down"];
      await settled(alice, bob, ids, 40_000);
      assert.deepEqual(
        bob.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id),
        [],
        "none delivered while the guard is gone",
      );
      for (const id of ids) {
        const e = alice.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
        assert.equal(e?.getChild("error")?.attrs.type, "wait", `${id} refused with wait`);
      }
      gate.open();
      guard = await startTheGuard();
      await guard.cacheEpochTold();
      await sendRaw(alice, chat("ra7-back"));
      await bob.waitFor((m) => m.attrs.id === "ra7-back", 15_000);
    });
  });
}
