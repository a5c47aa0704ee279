// The guard's verdict cache (issue 17, performance; packages/guard/src/verdict-cache.ts): a server
// module reuses, for a few seconds, a verdict Cordon marked cacheable for an identical question —
// and never past a change Cordon told it about. Real servers, real clients: a verdict cached and
// applied as its template (the new body, the guard's label, FLOT as the guard renders it); the
// recipient's clearance lowered in the store → the very next message is refused; a policy reload
// invalidates; a message with an extra payload (here one hiding a label) is asked about, not
// served from the cache; another set of recipient sessions misses; the guard reconnecting drops
// what was cached.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore, type StoreEvent, type StoreListener } from "@cordon/store";
import { xml, type Element } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import { announceCaps } from "../src/caps.js";
import { GUARD_ALL as ALL } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const NS_LABEL = "urn:xmpp:sec-label:0";
const PASSWORD = "cache-pw";

const marking = (m: Element) => m.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking");

for (const kind of serverKinds()) {
  describe(`the guard's verdict cache on ${kind} (issue 17)`, () => {
    const domain = `${kind}-gcache.test`;
    const guardDomain = `guard.${domain}`;
    let server: XmppServer;
    const memory = new MemoryStore();
    // The store as the guard sees it: the real MemoryStore, whose notifications this test can also
    // send the connection events a Redis store sends when its links drop (redis-store.test.ts shows
    // Redis sending them); everything else goes to the store itself.
    const listeners = new Set<StoreListener>();
    const tell = (event: StoreEvent) => listeners.forEach((l) => l(event));
    // While `held` is set the guard decides nothing (its incoming IQs wait, as when the store's
    // notification barrier holds them: @cordon/component incoming-hold.ts).
    let held: Promise<void> | undefined;
    const store = new Proxy(memory, {
      get(target, key) {
        if (key === "notificationsHeard") return () => held;
        if (key === "subscribe")
          return (l: StoreListener) => {
            listeners.add(l);
            const off = target.subscribe(l);
            return () => {
              listeners.delete(l);
              off();
            };
          };
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    let guard: GuardService;
    let decisions = 0;
    let servedReported = 0; // messages the module said it served from its cache (cache-report.ts)
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    let n = 0;
    const nextId = () => `c${++n}`;
    const chat = (to: string, id: string, body: string, extra = "") =>
      `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${extra}</message>`;

    async function session(user: string, resource: string, labels: boolean) {
      const client = await connectClient(server, user, PASSWORD, resource, { presence: false });
      open.push(client);
      if (labels) {
        const { c, asked } = announceCaps(client, true);
        await client.send(xml("presence", {}, c));
        await Promise.race([asked, new Promise((r) => setTimeout(r, 5000))]);
        await new Promise((r) => setTimeout(r, 300));
      } else await client.send(xml("presence"));
      return client;
    }

    async function startGuard() {
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, onDecision: () => void decisions++, onCached: (n) => void (servedReported += n) },
        false,
      );
    }

    let alice: TestClient;
    let aware: TestClient;
    let plain: TestClient;

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob"],
        password: PASSWORD,
        guard: { timeoutSeconds: 2, cacheSeconds: 30 },
      });
      await startGuard();
      alice = await session("alice", "desk", false);
      aware = await session("bob", "aware", true);
      plain = await session("bob", "plain", false);
      await guard.cacheEpochTold();
    });

    after(() => guarded.stopGuarded(server, guard, open));

    /** Sends and waits until both of bob's sessions have it; how many guard decisions it took. */
    async function delivered(body: string, extra = SECRET) {
      const before = decisions;
      const id = nextId();
      await sendRaw(alice, chat(jid("bob"), id, body, extra));
      const a = await aware.waitFor((m) => m.attrs.id === id, 8000);
      const p = await plain.waitFor((m) => m.attrs.id === id, 8000);
      return { a, p, asked: decisions - before, id };
    }

    /** Sends; waits for alice's error; asserts bob got nothing. */
    async function refused(body: string, extra = SECRET) {
      const id = nextId();
      await sendRaw(alice, chat(jid("bob"), id, body, extra));
      const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(aware.received.filter((m) => m.attrs.id === id).length, 0, "no stale delivery");
      assert.equal(plain.received.filter((m) => m.attrs.id === id).length, 0, "no stale delivery");
      assert.ok(!error.toString().includes(body), "nothing of the message in the error");
      return error;
    }

    /** Sends until a message is served from the cache (the first of a key is asked about). */
    async function warm(extra = SECRET) {
      await delivered("warm-up", extra);
      const second = await delivered("cached?", extra);
      assert.equal(second.asked, 0, "an identical question is served from the cache");
    }

    test(`[${kind}] an identical question is served from the cache, as the guard would have decided it`, async () => {
      const first = await delivered("first plans");
      assert.equal(first.asked, 1);
      const second = await delivered("second plans");
      assert.equal(second.asked, 0, "no round trip for the second message");
      // The template applied to the new message: its own body, the guard's label and marking,
      // FLOT as the guard's renderer makes it.
      assert.equal(second.a.getChildText("body"), "second plans");
      assert.equal(marking(second.a), "SECRET");
      assert.equal(second.a.getChildren("securitylabel", NS_LABEL).length, 1);
      // Byte for byte the label the guard's own answer gave (Prosody writes a cached verdict's label
      // from text serialised once: label_splice).
      assert.equal(
        second.a.getChild("securitylabel", NS_LABEL)?.toString(),
        first.a.getChild("securitylabel", NS_LABEL)?.toString(),
      );
      assert.equal(
        second.p.getChild("securitylabel", NS_LABEL)?.toString(),
        first.p.getChild("securitylabel", NS_LABEL)?.toString(),
      );
      assert.equal(second.p.getChildText("body"), "SECRET\nsecond plans");
      // Unlabelled (the default, UNCLASSIFIED): another key, asked once, then cached.
      assert.equal((await delivered("lunch", "")).asked, 1);
      const u2 = await delivered("coffee", "");
      assert.equal(u2.asked, 0);
      assert.equal(u2.p.getChildText("body"), "UNCLASSIFIED\ncoffee");
      assert.equal(marking(u2.a), "UNCLASSIFIED");
    });

    test(`[${kind}] messages served from the cache are reported to the guard and counted; nobody else can report`, async () => {
      await warm();
      // One report period with nothing sent: every earlier hit has been reported.
      await new Promise((r) => setTimeout(r, 5_600));
      const before = servedReported;
      for (let i = 0; i < 6; i++) assert.equal((await delivered(`counted ${i}`)).asked, 0);
      for (let t = 0; t < 70 && servedReported - before < 6; t++)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(servedReported - before, 6, "each message served from the cache counted once");
      // A user cannot report (only the served server's own domain may): forbidden, nothing counted.
      await assert.rejects(
        alice.iq(
          xml(
            "iq",
            { type: "set", to: guardDomain },
            xml("served", { xmlns: "urn:cordon:guard:0", n: "1000" }),
          ),
        ),
        (e: Error) => e.message.startsWith("iq error forbidden"),
      );
      assert.equal(servedReported - before, 6);
    });

    test(`[${kind}] a fresh XEP-0359 origin-id per message (as clients send) still hits; the delivered copy keeps its own`, async () => {
      const origin = (v: string) => `<origin-id xmlns='urn:xmpp:sid:0' id='${v}'/>${SECRET}`;
      assert.equal((await delivered("o1", origin("0f3a-1"))).asked, 1);
      const second = await delivered("o2", origin("77b2-2"));
      assert.equal(second.asked, 0, "served from the cache");
      assert.equal(second.a.getChild("origin-id", "urn:xmpp:sid:0")?.attrs.id, "77b2-2");
      assert.equal(second.p.getChild("origin-id", "urn:xmpp:sid:0")?.attrs.id, "77b2-2");
      assert.equal(second.p.getChildText("body"), "SECRET\no2");
    });

    /** Writes `count` messages at once (no waiting between them); their ids in order. */
    async function burst(prefix: string, count: number, extra: string) {
      const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
      await sendRaw(alice, ids.map((id) => chat(jid("bob"), id, `burst ${id}`, extra)).join(""));
      return ids;
    }

    test(`[${kind}] a burst of one question: every message delivered in order as decided, the guard asked once (single flight)`, async () => {
      // A key nothing asked before (CONFIDENTIAL), twenty messages written in one go: the first is
      // asked about and the others wait for its answer instead of being asked too (on ejabberd,
      // parked with the cache table's owner process).
      // The guard's answer held back for 500 ms, so the server reads the whole burst before it
      // lands (else, on a loaded machine, a message read after the answer landed is rightly asked
      // about again behind the parked ones: RFC 6120 §10.1 comes before the cache).
      const label = demo.labelXml(demo.label("CONFIDENTIAL"));
      const before = decisions;
      held = new Promise((r) => setTimeout(() => r((held = undefined)), 500));
      const ids = await burst("sf", 20, label);
      for (const session of [aware, plain]) {
        await session.waitFor((m) => m.attrs.id === ids.at(-1), 8000);
        const got = session.received.filter((m) => m.name === "message" && ids.includes(m.attrs.id ?? ""));
        assert.deepEqual(
          got.map((m) => m.attrs.id),
          ids,
          "each once, in the order sent (RFC 6120 §10.1)",
        );
        for (const m of got) {
          if (session === aware) assert.equal(marking(m), "CONFIDENTIAL");
          else assert.equal(m.getChildText("body"), `CONFIDENTIAL\nburst ${m.attrs.id}`);
        }
      }
      assert.equal(decisions - before, 1, "one question for the burst");
    });

    test(`[${kind}] a burst of a refused question: each message asked about and refused with the guard's own error`, async () => {
      // Refusals are never cached: the messages that waited on a refused question are asked about
      // themselves, and each sender error is the guard's (forbidden), not a `wait`.
      const label = demo.labelXml(demo.label("TOP SECRET"));
      const before = decisions;
      const ids = await burst("rf", 8, label);
      for (const id of ids) {
        const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
        assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"), id);
        assert.notEqual(error.getChild("error")?.attrs.type, "wait");
      }
      await new Promise((r) => setTimeout(r, 300));
      for (const session of [aware, plain])
        assert.equal(
          session.received.filter((m) => ids.includes(m.attrs.id ?? "")).length,
          0,
          "nothing delivered",
        );
      assert.equal(decisions - before, ids.length, "each asked about");
    });

    test(`[${kind}] a label that differs in any way from a cached one is asked about`, async () => {
      await warm();
      // The same tree but for one thing each: a forged marking text, an element moved out of the
      // label namespace (xmlns=''), one more attribute. Each is a question of its own (whatever the
      // guard then decides), never the cached SECRET verdict.
      const variants = [
        SECRET.replace(">SECRET<", ">UNCLASSIFIED<"),
        SECRET.replace("<label>", "<label xmlns=''>"),
        SECRET.replace("<displaymarking ", "<displaymarking x='1' "),
      ];
      for (const v of variants) assert.notEqual(v, SECRET, "the variant differs");
      for (const [i, v] of variants.entries()) {
        const id = nextId();
        const before = decisions;
        await sendRaw(alice, chat(jid("bob"), id, `variant ${i}`, v));
        // Answered either way: delivered to bob or refused to alice.
        const answered = () =>
          aware.received.some((m) => m.attrs.id === id) ||
          alice.received.some((m) => m.attrs.id === id && m.attrs.type === "error");
        for (let t = 0; t < 80 && !answered(); t++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(answered(), `variant ${i} answered`);
        assert.equal(decisions - before, 1, `variant ${i} asked about`);
      }
    });

    test(`[${kind}] the sender's last key reused only for the very same question (the key's fast path)`, async () => {
      // Prosody compares a message with its sender's last key in place (mod_cordon_guard.lua
      // same_as_memo) before building a key: each of these follows a message served from the cache
      // and differs from it in one thing that path compares — never the cached verdict. (An unknown
      // attribute of the message or its body: Prosody only — ejabberd's parser drops it, so there
      // the question is the cached one.)
      const unknownAttrs = [
        (id: string) =>
          `<message to='${jid("bob")}' id='${id}' type='chat' x='1'><body>v</body>${SECRET}</message>`,
        (id: string) =>
          `<message to='${jid("bob")}' id='${id}' type='chat'><body x='1'>v</body>${SECRET}</message>`,
      ];
      const variants = [
        ...(kind === "prosody" ? unknownAttrs : []),
        (id: string) =>
          chat(jid("bob"), id, "v", SECRET.replace("<esssecuritylabel ", "<esssecuritylabel x='1' ")),
        (id: string) =>
          chat(
            jid("bob"),
            id,
            "v",
            SECRET.replace("<displaymarking ", "<displaymarking xmlns:p='urn:p' p:fgcolor='white' "),
          ),
        (id: string) => chat(jid("bob"), id, "v", SECRET.replace("fgcolor='white'", "fgcolor='black'")),
        (id: string) => chat(jid("bob"), id, "v", SECRET.replace("fgcolor=", "fgcolour=")),
        (id: string) => chat(jid("bob"), id, "v", SECRET.replace("</displaymarking>", "</displaymarking>x")),
        (id: string) => chat(jid("bob"), id, "v", SECRET.replace("<label>", "<label>x")),
        (id: string) => chat(jid("bob"), id, "v", SECRET + SECRET),
        (id: string) => chat(jid("bob"), id, "v", `<thread>t</thread>${SECRET}`),
        (id: string) => chat(jid("bob"), id, "v", ""),
        (id: string) =>
          `<message to='${jid("bob")}' id='${id}' type='normal'><body>v</body>${SECRET}</message>`,
        (id: string) =>
          `<message to='${jid("alice")}' id='${id}' type='chat'><body>v</body>${SECRET}</message>`,
      ];
      // A sending session of its own: every key of this test is new (the key holds the sender's
      // full JID), so "asked about" can only mean the last key was not reused.
      const fresh = await session("alice", "fastpath", false);
      try {
        for (const [i, make] of variants.entries()) {
          for (const body of ["warm-up", "cached?"]) {
            const id = nextId();
            const before = decisions;
            await sendRaw(fresh, chat(jid("bob"), id, body, SECRET));
            await aware.waitFor((m) => m.attrs.id === id, 8000);
            await plain.waitFor((m) => m.attrs.id === id, 8000);
            if (body === "cached?") assert.equal(decisions - before, 0, "served from the cache");
          }
          const id = nextId();
          const before = decisions;
          await sendRaw(fresh, make(id));
          const answered = () =>
            aware.received.some((m) => m.attrs.id === id) || fresh.received.some((m) => m.attrs.id === id);
          for (let t = 0; t < 80 && !answered(); t++) await new Promise((r) => setTimeout(r, 100));
          assert.ok(answered(), `variant ${i} answered`);
          assert.equal(decisions - before, 1, `variant ${i} asked about`);
        }
      } finally {
        await fresh.stop();
        await new Promise((r) => setTimeout(r, 300));
      }
    });

    test(`[${kind}] the recipient's clearance lowered in the store: the very next message is refused`, async () => {
      await warm();
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await guard.cacheEpochTold();
      const error = await refused("after lowering");
      assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(ALL)));
      await guard.cacheEpochTold();
      assert.equal((await delivered("raised again")).asked, 1, "asked again: a new epoch");
    });

    test(`[${kind}] a policy reload invalidates the cache`, async () => {
      await warm();
      demo.registry.replaceAll(demo.registry.policies());
      await guard.cacheEpochTold();
      assert.equal((await delivered("after reload")).asked, 1, "asked again after the reload");
    });

    test(`[${kind}] a message with an extra payload is never served from the cache`, async () => {
      await warm();
      // The same key but for one more child: a payload hiding a TOP SECRET label.
      const hidden = `<x xmlns='urn:example:payload'>${demo.labelXml(demo.label("TOP SECRET"))}</x>`;
      const before = decisions;
      const error = await refused("hidden", SECRET + hidden);
      assert.equal(decisions - before, 1, "asked about");
      assert.ok(error.getChild("error"));
      // An out-of-band link: asked about every time (not cacheable), delivered.
      const oob = `<x xmlns='jabber:x:oob'><url>https://example.test/</url></x>`;
      assert.equal((await delivered("link", SECRET + oob)).asked, 1);
      assert.equal((await delivered("link again", SECRET + oob)).asked, 1, "never cached");
      // A body with an element inside: asked about on Prosody. ejabberd's parser keeps a body's
      // text only (the element never exists past it), so the question would be the cached one.
      const id = nextId();
      const before2 = decisions;
      await sendRaw(
        alice,
        `<message to='${jid("bob")}' id='${id}' type='chat'><body>x<b xmlns='urn:example'/></body>${SECRET}</message>`,
      );
      const got = await aware.waitFor((m) => m.attrs.id === id, 8000);
      if (kind === "prosody") assert.equal(decisions - before2, 1, "asked about");
      else assert.equal(got.getChild("body")?.getChildElements().length, 0, "the body's text only");
    });

    test(`[${kind}] another set of recipient sessions misses the cache`, async () => {
      await warm();
      const third = await session("bob", "third", false);
      const id = nextId();
      const before = decisions;
      await sendRaw(alice, chat(jid("bob"), id, "three sessions", SECRET));
      const t = await third.waitFor((m) => m.attrs.id === id, 8000);
      assert.equal(t.getChildText("body"), "SECRET\nthree sessions");
      assert.equal(decisions - before, 1, "asked about the new set of sessions");
      await third.stop();
      await new Promise((r) => setTimeout(r, 300));
      // Back to two sessions: that key is cached still (nothing changed for it).
      assert.equal((await delivered("two again")).asked, 0);
    });

    test(`[${kind}] while the store's notifications are down nothing is served from or kept in the cache`, async () => {
      await warm();
      tell({ kind: "connection", state: "down" });
      await guard.cacheEpochTold();
      // A clearance change now would go unheard: every message is asked about.
      assert.equal((await delivered("down one")).asked, 1);
      assert.equal((await delivered("down two")).asked, 1, "nothing kept while notifications are down");
      tell({ kind: "connection", state: "up" });
      await guard.cacheEpochTold();
      assert.equal((await delivered("up one")).asked, 1);
      assert.equal((await delivered("up two")).asked, 0, "cached again once they are back");
    });

    test(`[${kind}] the guard reconnecting drops the cache`, async () => {
      await warm();
      await guard.stop();
      // While the guard is down nothing is served from the cache: refused with `wait`.
      const error = await refused("guard down");
      assert.equal(error.getChild("error")?.attrs.type, "wait");
      await startGuard();
      await guard.cacheEpochTold();
      assert.equal((await delivered("guard back")).asked, 1, "asked again after the reconnect");
    });
  });
}
