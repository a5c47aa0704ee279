// Attacks on the central check (issue 17), review of the cheaper cache path (branch guard43 on
// Prosody: a key memo per sending session, forms on the message's own table, the label appended in
// place, the splice through util.stanza's serialiser into one reused buffer, the FLOT form built at
// its size). Real servers, real clients; 127.0.0.1 is a site cleared for everything, 127.0.0.2 an
// UNCLASSIFIED-only one. Each held on guard43 and is kept as a regression:
// - B1: bytes — a message served from the cache is written exactly as the same message asked about
//   (FLOT and labelled; several bodies with xml:lang, no body, a thread, receipts, origin-id,
//   whitespace between children, text needing escapes, a body spelling the label, xml:lang on the
//   message, unlabelled), each session of one recipient in its own form, in one send.
// - M1: the key memo of one sending session — the recipient's caps flipped (labels → none → labels),
//   a second session at the uncleared site, the resource re-bound from the uncleared site, another
//   label, another recipient: each its own question, never the memoised one.
// - W1: sessions over XEP-0206 BOSH (both servers: Prosody's mod_bosh, ejabberd's mod_bosh behind
//   ejabberd_http — an ordinary ejabberd_c2s session, the module's hooks run as for TCP) get what
//   the guard decided for each: nothing SECRET at the uncleared site, FLOT for a label-unaware one.
// - D1: Cordon down: nothing delivered, each message refused with `wait`, the error naming nothing
//   of the message (no body, no label, no thread).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, BoshClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import type { RawClient } from "../src/raw-client.js";

const demo = loadDemo();
const PASSWORD = "cache-attack3-pw";

for (const kind of serverKinds()) {
  describe(`attacks on the cheaper cache path on ${kind} (issue 17, guard43)`, () => {
    const domain = `${kind}-gcattack4.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    let decisions = 0;
    const open: TestClient[] = [];
    const raws: RawClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const CONFIDENTIAL = demo.labelXml(demo.label("CONFIDENTIAL"));
    let n = 0;
    const nextId = (p: string) => `${p}${++n}`;

    async function startGuard() {
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        locations: guarded.twoSites(demo),
        onDecision: () => void decisions++,
      });
    }

    const sender = (user: string, resource: string, site = CLEARED_SITE) =>
      guarded.openSession(server, open, PASSWORD, user, resource, site);
    const raw = guarded.rawSessions(kind, () => server, domain, raws, PASSWORD);

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol", "dan", "erin", "fay"],
          password: PASSWORD,
          guard: { timeoutSeconds: 3, cacheSeconds: 60 },
        },
        { bosh: true, extraModules: kind === "prosody" ? ["mam"] : ["mod_mam: {default: always}"] },
      );
      // carol: UNCLASSIFIED only.
      await store.setUserClearance(jid("carol"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await startGuard();
    });

    after(async () => {
      for (const client of raws) client.close();
      await guarded.stopGuarded(server, guard, open, 150);
    });

    // Shapes of cacheable messages: `{id}` is the message's id, the rest is the same each time.
    const SHAPES: Record<string, (to: string) => string> = {
      plain: (to) => `<message to='${to}' id='{id}' type='chat'><body>plans</body>${SECRET}</message>`,
      langs: (to) =>
        `<message to='${to}' id='{id}' type='chat'><body xml:lang='en'>plans</body><body xml:lang='fr'>projets</body>${SECRET}</message>`,
      nobody: (to) =>
        `<message to='${to}' id='{id}' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/>${SECRET}</message>`,
      decorated: (to) =>
        `<message to='${to}' id='{id}' type='normal'><body>plans</body><thread parent='p1'>t1</thread>` +
        `<request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='o-{id}'/>${SECRET}</message>`,
      spaced: (to) =>
        `<message to='${to}' id='{id}' type='chat'>\n  <body>plans</body>\n  ${SECRET}\n</message>`,
      escapes: (to) =>
        `<message to='${to}' id='{id}' type='chat'><body>a &amp;b &lt;c&gt; "d" 'e' ]]&gt; &#x1F600;</body>${SECRET}</message>`,
      spells: (to) =>
        `<message to='${to}' id='{id}' type='chat'><body>${SECRET.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}</body>${SECRET}</message>`,
      lang: (to) =>
        `<message to='${to}' id='{id}' type='headline' xml:lang='de'><body>Pläne</body>${SECRET}</message>`,
      unlabelled: (to) => `<message to='${to}' id='{id}' type='chat'><body>lunch</body></message>`,
      labelfirst: (to) => `<message to='${to}' id='{id}' type='chat'>${SECRET}<body>plans</body></message>`,
    };

    test(`[${kind}] B1: a message served from the cache is written byte for byte as the same one asked about, to each session in its own form`, async () => {
      const alice = await sender("alice", "b1");
      const plain = await raw("bob", "plain", CLEARED_SITE, false);
      const aware = await raw("bob", "aware", CLEARED_SITE, true);
      const annex = await raw("bob", "annex", UNCLASSIFIED_SITE, true);
      for (const [name, shape] of Object.entries(SHAPES)) {
        const got: Record<string, string[]> = { plain: [], aware: [] };
        for (const round of [0, 1, 2]) {
          const id = nextId(`b1${name}`);
          const before = decisions;
          await sendRaw(alice, shape(jid("bob")).replaceAll("{id}", id));
          const p = await plain.waitMessage(id);
          const a = await aware.waitMessage(id);
          if (round > 0) assert.equal(decisions - before, 0, `${name} ${id} served from the cache`);
          // (XEP-0359: the archive's stanza-id — and ejabberd's <archived/> — is each message's own.)
          const norm = (x: string) =>
            x.replaceAll(id, "ID").replace(/(<(?:stanza-id|archived)\b[^>]*\bid=)["'][^"']*["']/g, "$1''");
          got.plain!.push(norm(p));
          got.aware!.push(norm(a));
        }
        for (const form of ["plain", "aware"]) {
          const [asked, ...cached] = got[form]!;
          for (const c of cached)
            assert.equal(c, asked, `${name}, ${form}: the cached form is the asked one`);
          // One label, the guard's (never the sender's bytes twice, never the text as markup).
          if (name !== "unlabelled")
            assert.equal(
              asked!.match(/<securitylabel\b/g)?.length,
              1,
              `${name}, ${form}: one label: ${asked}`,
            );
        }
        if (name !== "unlabelled" && name !== "nobody")
          assert.match(got.plain![0]!, /<body[^>]*>SECRET\n/, `${name}: FLOT for the label-unaware session`);
        if (name === "langs")
          assert.equal(got.plain![0]!.match(/<body[^>]*>SECRET\n/g)?.length, 2, "each body");
      }
      await sleep(500);
      assert.ok(
        !/plans|projets|Pläne|SECRET/.test(annex.text),
        `nothing SECRET at the uncleared site: ${annex.text.slice(-500)}`,
      );
      await alice.stop();
    });

    test(`[${kind}] M1: one sending session's key memo — caps flipped, sessions added, re-bound elsewhere, another label or recipient — is never reused stale`, async () => {
      const alice = await sender("alice", "m1");
      let desk = await raw("dan", "desk", CLEARED_SITE, true);
      const send = async (to: string, label = SECRET, body = "plans") => {
        const id = nextId("m1");
        const before = decisions;
        await sendRaw(
          alice,
          `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${label}</message>`,
        );
        return { id, asked: () => decisions - before };
      };
      const labelled = async (client: RawClient, id: string, marking: string) => {
        const m = await client.waitMessage(id);
        assert.match(m, /<securitylabel\b/, m);
        assert.ok(m.includes(`>${marking}</displaymarking>`), `marked ${marking}: ${m}`);
        assert.ok(!/<body>[A-Z]+\n/.test(m), `not FLOT: ${m}`);
        return m;
      };
      // Warm: asked, then served from the cache.
      for (const round of [0, 1]) {
        const { id, asked } = await send(jid("dan"));
        await labelled(desk, id, "SECRET");
        if (round) assert.equal(asked(), 0, "served from the cache");
      }
      // Caps without labels (a new presence): FLOT from now on — and back.
      await desk.announce(false);
      for (const round of [0, 1]) {
        const { id } = await send(jid("dan"));
        const m = await desk.waitMessage(id);
        assert.match(m, /<body>SECRET\nplans<\/body>/, `FLOT after caps without labels (${round}): ${m}`);
      }
      await desk.announce(true);
      for (const round of [0, 1]) {
        const { id } = await send(jid("dan"));
        await labelled(desk, id, "SECRET");
        void round;
      }
      // Another label from the same session, the same recipient: its own marking.
      {
        const { id, asked } = await send(jid("dan"), CONFIDENTIAL);
        await labelled(desk, id, "CONFIDENTIAL");
        assert.equal(asked(), 1, "another label: asked");
        const again = await send(jid("dan"));
        await labelled(desk, again.id, "SECRET");
      }
      // A second session at the uncleared site: it gets nothing SECRET; gone again, the memo is not the old one.
      const annex = await raw("dan", "annex", UNCLASSIFIED_SITE, true);
      for (const round of [0, 1]) {
        const { id } = await send(jid("dan"));
        await labelled(desk, id, "SECRET");
        void round;
      }
      annex.close();
      await sleep(500);
      for (const round of [0, 1]) {
        const { id } = await send(jid("dan"));
        await labelled(desk, id, "SECRET");
        void round;
      }
      // Another recipient (not cleared): refused, from a key memoised for dan or not.
      {
        const { id } = await send(jid("carol"));
        const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
        assert.ok(error.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
        const again = await send(jid("dan"));
        await labelled(desk, again.id, "SECRET");
      }
      // dan's resource re-bound from the uncleared site (the session replaced): nothing SECRET there.
      desk.close();
      await sleep(500);
      desk = await raw("dan", "desk", UNCLASSIFIED_SITE, true);
      for (const round of [0, 1]) {
        const { id } = await send(jid("dan"));
        await sleep(800);
        assert.equal(desk.message(id), undefined, `nothing SECRET at the uncleared site (${round})`);
      }
      const { id } = await send(jid("dan"), "", "lunch");
      await desk.waitMessage(id); // (the session is live: an unlabelled one reaches it)
      assert.ok(!/plans/.test(annex.text), "nothing SECRET reached the annex");
      // And re-bound once more at the cleared site, same resource, same caps: the same key as the
      // first desk's — the new session (not the memoised one) gets each message, cached or not.
      // (Twice: the second time the sender's memo holds this very key, with the session before.)
      for (const rebind of [0, 1]) {
        desk.close();
        await sleep(500);
        desk = await raw("dan", "desk", CLEARED_SITE, true);
        for (const round of [0, 1, 2]) {
          const { id } = await send(jid("dan"));
          await labelled(desk, id, "SECRET");
          void round;
        }
        void rebind;
      }
      await alice.stop();
    });

    test(`[${kind}] W1: a session over BOSH (XEP-0206) gets what the guard decided for it — asked or from the cache`, async () => {
      const alice = await sender("alice", "w1");
      const desk = await raw("erin", "desk", CLEARED_SITE, true);
      const web = new BoshClient(server.httpPort, UNCLASSIFIED_SITE, domain);
      await web.login("erin", PASSWORD, "web");
      const plain = new BoshClient(server.httpPort, CLEARED_SITE, domain);
      await plain.login("erin", PASSWORD, "plain");
      const ids: string[] = [];
      for (const round of [0, 1, 2]) {
        const id = nextId("w1");
        ids.push(id);
        const before = decisions;
        await sendRaw(
          alice,
          `<message to='${jid("erin")}' id='${id}' type='chat'><body>web plans</body>${SECRET}</message>`,
        );
        await desk.waitMessage(id);
        if (round > 0) assert.equal(decisions - before, 0, `${id} served from the cache`);
      }
      const lunch = nextId("w1u");
      await sendRaw(
        alice,
        `<message to='${jid("erin")}' id='${lunch}' type='chat'><body>lunch</body></message>`,
      );
      await web.waitMessage(lunch); // (the web session is live: an unlabelled message reaches it)
      assert.ok(
        !/web plans/.test(web.text),
        `nothing SECRET over BOSH at the uncleared site: ${web.text.slice(-600)}`,
      );
      // Its archive (XEP-0313) over BOSH: nothing SECRET either.
      web.write(
        `<iq type='set' id='w1q' xmlns='jabber:client'><query xmlns='urn:xmpp:mam:2' queryid='w1m'/></iq>`,
      );
      await web.until(/<iq[^>]*id=["']w1q["']/);
      await sleep(500);
      assert.ok(
        !/web plans/.test(web.text),
        `nothing SECRET from the archive over BOSH: ${web.text.slice(-600)}`,
      );
      // A label-unaware web client at the cleared site: the FLOT form, asked or from the cache.
      for (const id of ids) {
        const m = await plain.waitMessage(id);
        assert.match(m, /<body[^>]*>SECRET\nweb plans<\/body>/, `FLOT over BOSH: ${m}`);
      }
      web.close();
      plain.close();
      await alice.stop();
    });

    test(`[${kind}] D1: Cordon down — nothing delivered, each message refused with wait, the error naming nothing of it`, async () => {
      const alice = await sender("alice", "d1");
      const fay = await raw("fay", "f", CLEARED_SITE, true);
      const shape = (id: string, label: string) =>
        `<message to='${jid("fay")}' id='${id}' type='chat'><body>tell-tale body</body><thread>tell-tale thread</thread>${label}</message>`;
      for (const round of [0, 1]) {
        const id = nextId("d1w");
        await sendRaw(alice, shape(id, SECRET));
        await fay.waitMessage(id);
        void round;
      }
      await guard.stop();
      await sleep(300);
      const ids = [nextId("d1"), nextId("d1"), nextId("d1")];
      await sendRaw(alice, shape(ids[0]!, SECRET) + shape(ids[1]!, "") + shape(ids[2]!, SECRET));
      for (const id of ids) {
        const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 10_000);
        assert.equal(error.getChild("error")?.attrs.type, "wait", id);
        const text = error.toString();
        assert.ok(!/tell-tale|securitylabel|SECRET/.test(text), `the error echoes nothing: ${text}`);
      }
      await sleep(500);
      for (const id of ids)
        assert.equal(fay.message(id), undefined, `${id} not delivered while Cordon is down`);
      await startGuard();
      const id = nextId("d1b");
      await sendRaw(alice, shape(id, SECRET));
      await fay.waitMessage(id);
      await alice.stop();
    });
  });
}
