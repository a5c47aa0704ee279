// Attacks on the verdict cache (issue 17), third round: the cache entry a sending session
// remembers for its last key (Prosody's mod_cordon_guard skips the cache lookup while that entry is
// still kept: removed, evicted or replaced entries are marked gone, a forgotten cache bumps a
// generation; epoch, guard session and expiry are checked on every message). Each test first makes
// the sender's session remember an entry (the same message shape twice, the second served from
// the cache), then changes what the remembered entry must no longer decide, and sends the same
// shape again. Real servers, real clients; 127.0.0.1 is a site cleared for everything, 127.0.0.2
// an UNCLASSIFIED-only one. On ejabberd (no remembered entry) the same outcomes are asserted, but
// for RE2/RE3 (Prosody's bounds: ejabberd's differ — 4 MiB, cleared at MAX_CACHED — and its c2s
// shaper let a 4,200-message flood through too slowly for a test) and RE6 (Prosody's shell).
// - RE1: the recipient's only session replaced by one of the same resource at the uncleared site.
// - RE2: the remembered entry evicted (least recently set, MAX_CACHED other keys kept after it).
// - RE3: the cache forgotten under byte pressure (other keys filling MAX_CACHE_BYTES).
// - RE4: two sessions of one sender interleaving, then the recipient's clearance lowered.
// - RE5: the remembered entry past its expiry (cordon_guard_cache_seconds) is asked about again.
// - RE6 (Prosody): mod_cordon_guard reloaded, then the guard's link dropped and back (the same
//   epoch told on a new guard session: "a new guard session drops everything"). The sessions
//   outlive the module, and so did the entries they remembered; the new instance's generation
//   count started again at the old one's, so a remembered entry of the old instance passed as
//   kept in the new one: it was used (never asked about), and one found stale was subtracted
//   from the new cache's byte count it was never in (MAX_CACHE_BYTES loosened by its size).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadDemo } from "../src/demo.js";
import { GUARD_ALL as ALL, CLEARED_SITE, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "cache-attack3-pw";
const USERS = ["alice", "bob", "carol", "dan", "erin", "fay", "gus"];

for (const kind of serverKinds()) {
  for (const cacheSeconds of [60, 1]) {
    describe(`attacks on the verdict cache, round 3 (remembered entry), on ${kind}, cache ${cacheSeconds} s (issue 17)`, () => {
      const domain = `${kind}-gcattack3-${cacheSeconds}.test`;
      const guardDomain = `guard.${domain}`;
      let server: XmppServer;
      const store = new MemoryStore();
      let guard: GuardService;
      const open: TestClient[] = [];
      const jid = (u: string) => `${u}@${domain}`;
      const SECRET = demo.labelXml(demo.label("SECRET"));
      const chat = (to: string, id: string, body: string, extra = SECRET) =>
        `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${extra}</message>`;
      let decisions = 0;

      const session = (user: string, resource: string, site: string) =>
        guarded.openSession(server, open, PASSWORD, user, resource, site);

      /** Sends `chat(to)`; waits for it at `at`; how many guard decisions it took. */
      async function delivered(
        from: TestClient,
        to: string,
        at: TestClient,
        id: string,
        body = `plans ${id}`,
      ) {
        const before = decisions;
        await sendRaw(from, chat(to, id, body));
        await at.waitFor((m) => m.attrs.id === id, 8000);
        return decisions - before;
      }

      /** The sender's session remembers the entry of this shape: asked once, then served from the cache. */
      async function remember(from: TestClient, to: string, at: TestClient, tag: string) {
        assert.equal(await delivered(from, to, at, `${tag}-w0`), 1, "the first is asked about");
        assert.equal(await delivered(from, to, at, `${tag}-w1`), 0, "the second served from the cache");
        assert.equal(await delivered(from, to, at, `${tag}-w2`), 0, "and the third");
      }

      /** Sends each of `ids` (`make(id)`), in bursts, and waits until `at` has them all. */
      async function flood(from: TestClient, at: TestClient, ids: string[], make: (id: string) => string) {
        for (let i = 0; i < ids.length; i += 200) {
          const burst = ids.slice(i, i + 200);
          await sendRaw(from, burst.map(make).join(""));
          const last = burst[burst.length - 1]!;
          await at.waitFor((m) => m.attrs.id === last, 30_000);
        }
      }

      before(async () => {
        server = await guarded.startGuardedServer(
          kind,
          {
            demo,
            domain,
            store,
            users: USERS,
            password: PASSWORD,
            guard: { timeoutSeconds: 5, cacheSeconds },
          },
          // (RE6: the admin shell, to reload the module and drop the guard's link)
          { extraModules: kind === "prosody" ? ["admin_shell"] : [] },
        );
        guard = await guarded.startGuard(demo, server, domain, {
          store,
          onDecision: () => void decisions++,
          locations: guarded.twoSites(demo),
        });
      });

      after(async () => {
        await guarded.stopGuarded(server, guard, open);
      });

      if (cacheSeconds === 1) {
        test(`[${kind}] RE5: a remembered entry past its expiry is asked about again, and remembered anew`, async () => {
          const alice = await session("alice", "re5", CLEARED_SITE);
          const bob = await session("bob", "re5", CLEARED_SITE);
          await remember(alice, jid("bob"), bob, "re5");
          await sleep(1300);
          assert.equal(await delivered(alice, jid("bob"), bob, "re5-a"), 1, "expired: asked about");
          assert.equal(await delivered(alice, jid("bob"), bob, "re5-b"), 0, "kept anew: served");
          await alice.stop();
          await bob.stop();
        });
        return;
      }

      test(`[${kind}] RE1: the recipient's session replaced at the same resource from the uncleared site — the sender's remembered entry is not used, nothing SECRET there`, async () => {
        const alice = await session("alice", "re1", CLEARED_SITE);
        const desk = await session("bob", "desk", CLEARED_SITE);
        await remember(alice, jid("bob"), desk, "re1");
        await desk.stop();
        await sleep(300);
        const annex = await session("bob", "desk", UNCLASSIFIED_SITE);
        const before = decisions;
        for (const id of ["re1-a", "re1-b", "re1-c"])
          await sendRaw(alice, chat(jid("bob"), id, `plans ${id}`));
        await sendRaw(alice, chat(jid("bob"), "re1-u", "lunch", ""));
        await annex.waitFor((m) => m.attrs.id === "re1-u", 8000);
        await sleep(500);
        assert.deepEqual(
          annex.received.filter((m) => m.toString().includes("plans")).map((m) => m.attrs.id),
          [],
          "nothing SECRET at the uncleared site",
        );
        assert.ok(decisions - before >= 2, `asked about, not served from the entry (${decisions - before})`);
        for (const id of ["re1-a", "re1-b", "re1-c"]) {
          const error = alice.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
          if (error) assert.ok(!error.toString().includes("plans"), "the error echoes nothing");
        }
        await alice.stop();
        await annex.stop();
      });

      if (kind === "prosody")
        test(`[${kind}] RE2: the remembered entry evicted by other keys (MAX_CACHED) — asked about again, then served from the new entry`, async () => {
          const alice = await session("alice", "re2", CLEARED_SITE);
          const carol = await session("carol", "re2", CLEARED_SITE);
          await remember(alice, jid("carol"), carol, "re2");
          // Another user fills the cache: 4,200 distinct keys (a thread parent of its own each).
          const dan = await session("dan", "re2", CLEARED_SITE);
          const erin = await session("erin", "re2", CLEARED_SITE);
          const ids = Array.from({ length: 4200 }, (_, i) => `re2-f${i}`);
          const before = decisions;
          await flood(
            dan,
            erin,
            ids,
            (id) =>
              `<message to='${jid("erin")}' id='${id}' type='chat'><body>x</body><thread parent='${id}'>t</thread>${SECRET}</message>`,
          );
          assert.ok(decisions - before >= 4096, `each key asked about (${decisions - before})`);
          assert.equal(await delivered(alice, jid("carol"), carol, "re2-a"), 1, "evicted: asked about");
          assert.equal(await delivered(alice, jid("carol"), carol, "re2-b"), 0, "kept anew: served");
          await alice.stop();
          await carol.stop();
          await dan.stop();
          await erin.stop();
        });

      if (kind === "prosody")
        test(`[${kind}] RE3: the cache forgotten under byte pressure — the remembered entry is asked about again`, async () => {
          const alice = await session("alice", "re3", CLEARED_SITE);
          const carol = await session("carol", "re3b", CLEARED_SITE);
          await remember(alice, jid("carol"), carol, "re3");
          // 40 keys of ≈ 60 KB (a thread parent): more than MAX_CACHE_BYTES (2 MiB) together.
          const fay = await session("fay", "re3", CLEARED_SITE);
          const gus = await session("gus", "re3", CLEARED_SITE);
          const big = "p".repeat(60_000);
          const ids = Array.from({ length: 40 }, (_, i) => `re3-f${i}`);
          await flood(
            fay,
            gus,
            ids,
            (id) =>
              `<message to='${jid("gus")}' id='${id}' type='chat'><body>x</body><thread parent='${id}${big}'>t</thread>${SECRET}</message>`,
          );
          assert.equal(await delivered(alice, jid("carol"), carol, "re3-a"), 1, "forgotten: asked about");
          assert.equal(await delivered(alice, jid("carol"), carol, "re3-b"), 0, "kept anew: served");
          await alice.stop();
          await carol.stop();
          await fay.stop();
          await gus.stop();
        });

      test(`[${kind}] RE4: two sessions of one sender interleaving, then the recipient's clearance lowered — neither's remembered entry delivers`, async () => {
        const a1 = await session("alice", "re4-1", CLEARED_SITE);
        const a2 = await session("alice", "re4-2", CLEARED_SITE);
        const bob = await session("bob", "re4", CLEARED_SITE);
        for (const [i, from] of [a1, a2, a1, a2, a1, a2].entries()) {
          const asked = await delivered(from, jid("bob"), bob, `re4-w${i}`);
          assert.equal(asked, i < 2 ? 1 : 0, `re4-w${i}: ${i < 2 ? "asked about" : "served from the cache"}`);
        }
        await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
        await guard.cacheEpochTold();
        for (const [i, from] of [a1, a2, a1, a2].entries()) {
          const id = `re4-x${i}`;
          await sendRaw(from, chat(jid("bob"), id, `plans ${id}`));
          const error = await from.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
          assert.ok(
            error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"),
            id,
          );
          assert.ok(!error.toString().includes("plans"), "the error echoes nothing");
        }
        await sleep(300);
        assert.deepEqual(
          bob.received.filter((m) => (m.attrs.id ?? "").startsWith("re4-x")).map((m) => m.attrs.id),
          [],
          "nothing delivered after the clearance was lowered",
        );
        await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(ALL)));
        await guard.cacheEpochTold();
        assert.equal(await delivered(a1, jid("bob"), bob, "re4-y0"), 1, "raised again: asked about");
        assert.equal(await delivered(a1, jid("bob"), bob, "re4-y1"), 0, "then served");
        await a1.stop();
        await a2.stop();
        await bob.stop();
      });

      if (kind === "prosody") {
        /** Runs `command` in Prosody's admin shell (mod_admin_shell). */
        const shell = (command: string) =>
          promisify(execFile)(
            "prosodyctl",
            ["--config", join(server.dir, "prosody.cfg.lua"), "shell", command],
            {
              timeout: 10_000,
            },
          );

        test(`[${kind}] RE6: the module reloaded, then a new guard session — an entry remembered from before is not used`, async () => {
          const alice = await session("alice", "re6", CLEARED_SITE);
          const bob = await session("bob", "re6", CLEARED_SITE);
          await remember(alice, jid("bob"), bob, "re6");
          const reloaded = await shell(`module:reload("cordon_guard", "${domain}")`);
          if (process.env["GUARD_DEBUG"]) console.log(reloaded);
          // The guard's link dropped: it connects again and tells the same epoch on its new session.
          await shell(`> prosody.hosts["${guardDomain}"].modules.component.session:close()`);
          await sleep(1500);
          await guard.cacheEpochTold();
          assert.equal(
            await delivered(alice, jid("bob"), bob, "re6-a"),
            1,
            "a new guard session: asked about",
          );
          assert.equal(await delivered(alice, jid("bob"), bob, "re6-b"), 0, "kept anew: served");
          await alice.stop();
          await bob.stop();
        });
      }
    });
  }
}
