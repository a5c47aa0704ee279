// Attacks on the cheaper cache path of branch pguard12 (issue 17, Prosody's mod_cordon_guard.lua):
// the cache key compared in place with the sending session's last key (same_as_memo, label_same),
// the three outgoing filters merged into one (guard_filter), the sent-carbon list made lazily, and
// label_splice remembering the escaped forms of short strings. Real servers, real clients;
// 127.0.0.1 is a site cleared for everything, 127.0.0.2 an UNCLASSIFIED-only one. (ejabberd's
// module has none of these changes: the same attacks run there as a regression.)
// - K1: a message differing from the sender's last (cached, delivered) one only in its label's
//   decisive bytes — the ESS label SECRET under an UNCLASSIFIED marking, the bytes split by a CDATA
//   section, a prefixed element, no marking, a second label, another xml:lang or type — sent to an
//   UNCLASSIFIED-only recipient: asked about and refused, never the cached UNCLASSIFIED verdict.
// - E1: escaped forms remembered: a resource, a thread's parent, bodies made of the characters XML
//   escapes (and of another string's escaped form, sent by another user), more short strings than
//   the memo keeps: each message served from the cache is written byte for byte as the same message
//   asked about, well-formed, every value escaped once.
// - C1: sent carbons (XEP-0280 §6) through the merged filter: the sender's session at the
//   uncleared site never gets a SECRET one, the label-aware one at the cleared site gets each
//   labelled, and an unlabelled message's carbon reaches both.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import type { RawClient } from "../src/raw-client.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { attrEsc, attrOf, esc, textOf, waitMessage } from "../src/wire-xml.js";

const demo = loadDemo();
const PASSWORD = "cache-attack5-pw";
const NS_CARBONS = "urn:xmpp:carbons:2";

for (const kind of serverKinds()) {
  describe(`attacks on the key's fast path, the merged filter and the escape memo on ${kind} (issue 17, pguard12)`, () => {
    const domain = `${kind}-gcattack5.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    let decisions = 0;
    const open: TestClient[] = [];
    const raws: RawClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const UNCLASSIFIED = demo.labelXml(demo.label("UNCLASSIFIED"));
    const essOf = (label: string) => /<esssecuritylabel[^>]*>([^<]*)</.exec(label)![1]!;
    const SECRET_ESS = essOf(SECRET);
    const UNCLASSIFIED_ESS = essOf(UNCLASSIFIED);
    let n = 0;
    const nextId = (p: string) => `${p}${++n}`;

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol", "erin"],
          cleared: ["alice", "bob", "erin"],
          password: PASSWORD,
          guard: { timeoutSeconds: 3, cacheSeconds: 60 },
        },
        { extraModules: kind === "prosody" ? ["carbons"] : ["mod_carboncopy"] },
      );
      await store.setUserClearance(jid("carol"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      const onDecision = () => void decisions++;
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        locations: guarded.twoSites(demo),
        onDecision,
      });
    });

    after(async () => {
      for (const client of raws) client.close();
      await guarded.stopGuarded(server, guard, open, 150);
    });

    const sender = (user: string, resource: string) =>
      guarded.openSession(server, open, PASSWORD, user, resource, CLEARED_SITE);
    /** `resource` as XML text (escaped by the caller). */
    const raw = guarded.rawSessions(kind, () => server, domain, raws, PASSWORD);

    test(`[${kind}] K1: a label differing from the sender's last cached one only in its decisive bytes is asked about and refused`, async () => {
      const alice = await sender("alice", "k1");
      const carol = await raw("carol", "desk", CLEARED_SITE, true);
      const message = (id: string, label: string, attrs = "type='chat'") =>
        `<message to='${jid("carol")}' id='${id}' ${attrs}><body>plans</body>${label}</message>`;
      const warm = async () => {
        for (const round of [0, 1]) {
          const id = nextId("k1w");
          const before = decisions;
          await sendRaw(alice, message(id, UNCLASSIFIED));
          const m = await carol.waitMessage(id);
          assert.ok(m.includes(">UNCLASSIFIED</displaymarking>"), m);
          if (round) assert.equal(decisions - before, 0, "the UNCLASSIFIED one served from the cache");
        }
      };
      const secretUnderUnclassified = UNCLASSIFIED.replace(UNCLASSIFIED_ESS, SECRET_ESS);
      const cut = Math.floor(SECRET_ESS.length / 2);
      const variants: Record<string, string> = {
        "SECRET bytes, UNCLASSIFIED marking": message("{id}", secretUnderUnclassified),
        "SECRET bytes split by CDATA": message(
          "{id}",
          UNCLASSIFIED.replace(
            UNCLASSIFIED_ESS,
            `${SECRET_ESS.slice(0, cut)}<![CDATA[${SECRET_ESS.slice(cut)}]]>`,
          ),
        ),
        "SECRET bytes, prefixed ESS element": message(
          "{id}",
          UNCLASSIFIED.replace(
            /<esssecuritylabel xmlns='([^']+)'>[^<]*<\/esssecuritylabel>/,
            `<e:esssecuritylabel xmlns:e='$1'>${SECRET_ESS}</e:esssecuritylabel>`,
          ),
        ),
        "SECRET bytes, no marking": message(
          "{id}",
          secretUnderUnclassified.replace(/<displaymarking[^>]*>[^<]*<\/displaymarking>/, ""),
        ),
        "SECRET bytes, empty marking": message(
          "{id}",
          secretUnderUnclassified.replace(/(<displaymarking[^>]*>)[^<]*(<\/displaymarking>)/, "$1$2"),
        ),
        "a second, SECRET label": message("{id}", UNCLASSIFIED + SECRET),
        "SECRET bytes, xml:lang": message("{id}", secretUnderUnclassified, "type='chat' xml:lang='en'"),
        "SECRET bytes, type normal": message("{id}", secretUnderUnclassified, "type='normal'"),
        "SECRET bytes, no type": message("{id}", secretUnderUnclassified, ""),
        "SECRET bytes, to the resource": message("{id}", secretUnderUnclassified).replace(
          `to='${jid("carol")}'`,
          `to='${jid("carol")}/desk'`,
        ),
      };
      for (const [name, shape] of Object.entries(variants)) {
        await warm();
        const id = nextId("k1v");
        const before = decisions;
        await sendRaw(alice, shape.replaceAll("{id}", id));
        const error = await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
        // (Two labels: refused as a bad request, XEP-0258 §3 — any refusal; never the cached verdict.)
        const condition = name.startsWith("a second") ? "bad-request" : "forbidden";
        assert.ok(
          error.getChild("error")?.getChild(condition, "urn:ietf:params:xml:ns:xmpp-stanzas"),
          `${name}: refused (${condition}): ${error.toString()}`,
        );
        assert.ok(decisions - before >= 1, `${name}: asked about`);
        await sleep(200);
        assert.equal(
          carol.message(id),
          undefined,
          `${name}: nothing delivered to the UNCLASSIFIED recipient`,
        );
      }
      await alice.stop();
    });

    test(`[${kind}] E1: escaped forms remembered — each message from the cache written as the one asked about, every value escaped once`, async () => {
      const alice = await sender("alice", "e1");
      const erin = await sender("erin", "e1");
      // A resource made of what XML escapes (resourceprep and PRECIS allow each).
      const resource = `r&'<>"`;
      const aware = await raw("bob", esc(resource), CLEARED_SITE, true);
      const plain = await raw("bob", "plain", CLEARED_SITE, false);
      const to = `${jid("bob")}/${resource}`;
      // Bodies (each ≤ 48 bytes: remembered), one another's escaped forms among them, from two senders.
      const bodies = [
        "&",
        "&amp;",
        "<b/>",
        "&lt;b/&gt;",
        `'"`,
        "&apos;&quot;",
        "]]>",
        "SECRET\n",
        "a\tb\nc",
        "d\r\ne\r",
      ];
      const shape = (id: string, body: string, parent: string, bare: boolean) =>
        `<message to='${esc(bare ? jid("bob") : to)}' id='${id}' type='chat'><body>${esc(body).replace(/\r/g, "&#13;")}</body>` +
        `<thread parent='${attrEsc(parent)}'>t</thread>${SECRET}</message>`;
      const check = async (from: TestClient, body: string, parent: string) => {
        for (const bare of [false, true]) {
          const got: { aware: string[]; plain: string[] } = { aware: [], plain: [] };
          for (const round of [0, 1, 2]) {
            const id = nextId("e1");
            const before = decisions;
            await sendRaw(from, shape(id, body, parent, bare));
            const a = await waitMessage(aware, id);
            if (round) assert.equal(decisions - before, 0, `${JSON.stringify(body)}: served from the cache`);
            // Well-formed, with the very values sent (parsed back: each escaped exactly once).
            assert.equal(textOf(a, "body"), body, `body ${JSON.stringify(body)}: ${a}`);
            assert.equal(attrOf(a, "thread", "parent"), parent, `parent: ${a}`);
            assert.equal(attrOf(a, "message", "to"), bare ? jid("bob") : to, `to: ${a}`);
            const norm = (x: string) => x.replaceAll(id, "ID");
            got.aware.push(norm(a));
            if (bare) {
              const p = await waitMessage(plain, id);
              assert.equal(textOf(p, "body"), `SECRET\n${body}`, `FLOT ${JSON.stringify(body)}: ${p}`);
              got.plain.push(norm(p));
            }
          }
          for (const form of ["aware", "plain"] as const) {
            const [asked, ...cached] = got[form];
            for (const c of cached)
              assert.equal(c, asked, `${JSON.stringify(body)} ${form}: cached bytes = asked`);
          }
        }
      };
      // (Parents with whitespace too: the FLOT form asked about lost an attribute's tab and line ends
      // before flot13 — the guard wrote them raw, the server's parser normalised them, XML 1.0
      // §3.3.3 — while the one from the cache kept them: guard-flot-whitespace W1.)
      for (const [i, body] of bodies.entries())
        await check(i % 2 ? erin : alice, body, bodies[bodies.length - 1 - i]!);
      // More distinct short strings than the memo keeps (it forgets all when full), then again.
      for (let i = 0; i < 300; i += 30) {
        const ids: string[] = [];
        let batch = "";
        for (let j = i; j < i + 30; j++) {
          const id = nextId("e1f");
          ids.push(id);
          batch += shape(id, `f${j}&`, `p${j}<`, true);
        }
        await sendRaw(erin, batch);
        for (const id of ids) await waitMessage(aware, id);
      }
      for (const body of bodies) await check(alice, body, "f1&");
      await alice.stop();
      await erin.stop();
    });

    test(`[${kind}] C1: sent carbons through the merged filter — nothing SECRET at the uncleared site, an unlabelled one to both`, async () => {
      const alice = await sender("alice", "c1");
      const annex = await raw("alice", "annex", UNCLASSIFIED_SITE, true);
      const lab = await raw("alice", "lab", CLEARED_SITE, true);
      for (const c of [annex, lab]) {
        c.write(`<iq type='set' id='carb'><enable xmlns='${NS_CARBONS}'/></iq>`);
        await c.until(
          /<iq[^>]*id=["']carb["'][^>]*type=["']result|<iq[^>]*type=["']result["'][^>]*id=["']carb["']/,
        );
      }
      const bob = await raw("bob", "c1", CLEARED_SITE, true);
      for (const round of [0, 1, 2, 3]) {
        const id = nextId("c1");
        const unlabelled = round === 3;
        await sendRaw(
          alice,
          `<message to='${jid("bob")}' id='${id}' type='chat'><body>${unlabelled ? "lunch" : "carbon plans"}</body>${unlabelled ? "" : SECRET}</message>`,
        );
        await bob.waitMessage(id);
        const copy = (await lab.until(new RegExp(`<sent\\b[\\s\\S]*?id=["']${id}["'][\\s\\S]*?</sent>`)))[0];
        if (!unlabelled)
          assert.match(
            copy,
            />SECRET<\/displaymarking>/,
            `the cleared session's carbon is labelled: ${copy}`,
          );
        if (unlabelled) await annex.until(new RegExp(`<sent\\b[\\s\\S]*?id=["']${id}["']`));
      }
      await sleep(300);
      assert.ok(
        !/carbon plans/.test(annex.text),
        `nothing SECRET carbon-copied to the uncleared site: ${annex.text.slice(-600)}`,
      );
      await alice.stop();
    });
  });
}
