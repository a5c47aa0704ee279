// The central check (issue 17): one-to-one messages between users of one server, decided by
// Cordon's guard through the server's module (deploy/prosody/modules/mod_cordon_guard.lua and
// deploy/ejabberd/modules/mod_cordon_guard.erl, loaded by the deploy/ snippets as an admin loads them). Real server, real clients: exact
// recipient sets, over-claiming, the default label, malformed and labelled-error messages, and
// fail closed while Cordon is stopped.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import type { Element } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const NS_LABEL = "urn:xmpp:sec-label:0";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const PASSWORD = "guard-pw";

/** Writes XML as given (a label written as the policy's XML, as a label-aware client sends it). */

const labelled = (to: string, id: string, body: string, label?: string) =>
  `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${label ?? ""}</message>`;

const errorOf = (s: Element) => s.getChild("error");
const condition = (s: Element) =>
  errorOf(s)
    ?.getChildElements()
    .find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text")?.name;

for (const kind of serverKinds()) {
  describe(`the central check on ${kind} (issue 17)`, () => {
    const domain = `${kind}-guard.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const c: Record<string, TestClient> = {};
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const TOP_SECRET = demo.labelXml(demo.label("TOP SECRET"));

    const set = (u: string, classes: string[]) =>
      store.setUserClearance(jid(u), demo.raw(demo.clearance(classes)));

    const startGuard = async () => {
      guard = await guarded.startGuard(demo, server, domain, { store }, false);
    };

    /** Nothing matching reached `client` within a short wait (a refused message is never delivered late). */
    async function nothing(client: TestClient, pred: (s: Element) => boolean) {
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(client.received.filter(pred).length, 0);
    }

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob", "carol", "mallory", "dan"],
        cleared: [],
        password: PASSWORD,
        guard: { timeoutSeconds: 2 },
      });
      await set("alice", ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"]);
      await set("bob", ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]);
      await set("carol", ["UNCLASSIFIED"]);
      await startGuard();
      for (const u of ["alice", "bob", "carol", "mallory"]) c[u] = await connectClient(server, u, PASSWORD);
    });

    after(() => guarded.stopGuarded(server, guard, Object.values(c), 80));

    test(`[${kind}] a SECRET message reaches a recipient cleared for it, with the policy's label`, async () => {
      await sendRaw(c.alice!, labelled(jid("bob"), "s1", "for bob", SECRET));
      const got = await c.bob!.waitFor((m) => m.attrs.id === "s1", 8000);
      // bob's client advertises no labels (no caps): FLOT, the policy's marking as the first line.
      assert.equal(got.getChildText("body"), "SECRET\nfor bob");
      const label = got.getChild("securitylabel", NS_LABEL);
      assert.equal(label?.getChildText("displaymarking"), "SECRET");
      assert.equal(got.getChildren("securitylabel", NS_LABEL).length, 1);
    });

    test(`[${kind}] a SECRET message to a recipient cleared UNCLASSIFIED only is refused, nothing echoed`, async () => {
      await sendRaw(c.alice!, labelled(jid("carol"), "s2", "not for carol", SECRET));
      const error = await c.alice!.waitFor((m) => m.attrs.id === "s2" && m.attrs.type === "error", 8000);
      assert.equal(condition(error), "forbidden");
      assert.equal(error.getChild("body"), undefined);
      assert.equal(error.getChild("securitylabel", NS_LABEL), undefined);
      assert.ok(!error.toString().includes("not for carol"));
      await nothing(c.carol!, (m) => m.attrs.id === "s2");
    });

    test(`[${kind}] a sender cannot claim a label their clearance does not grant`, async () => {
      await sendRaw(c.bob!, labelled(jid("alice"), "s3", "over-claimed", TOP_SECRET));
      const error = await c.bob!.waitFor((m) => m.attrs.id === "s3" && m.attrs.type === "error", 8000);
      assert.equal(condition(error), "forbidden");
      await nothing(c.alice!, (m) => m.attrs.id === "s3");
    });

    test(`[${kind}] an unlabelled message takes the default label; a recipient without clearance gets nothing`, async () => {
      await sendRaw(c.alice!, labelled(jid("carol"), "u1", "plain"));
      const got = await c.carol!.waitFor((m) => m.attrs.id === "u1", 8000);
      assert.equal(got.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking"), "UNCLASSIFIED");
      await sendRaw(c.alice!, labelled(jid("mallory"), "u2", "plain"));
      const error = await c.alice!.waitFor((m) => m.attrs.id === "u2" && m.attrs.type === "error", 8000);
      assert.equal(condition(error), "forbidden");
      await nothing(c.mallory!, (m) => m.attrs.id === "u2");
    });

    test(`[${kind}] a malformed label is refused bad-request; a labelled error message is dropped`, async () => {
      await sendRaw(
        c.alice!,
        labelled(
          jid("bob"),
          "m1",
          "x",
          `<securitylabel xmlns='${NS_LABEL}'><label>garbage</label></securitylabel>`,
        ),
      );
      const error = await c.alice!.waitFor((m) => m.attrs.id === "m1" && m.attrs.type === "error", 8000);
      assert.equal(condition(error), "bad-request");
      await sendRaw(
        c.alice!,
        `<message to='${jid("carol")}' id='e1' type='error'><body>leak</body>${SECRET}<error type='cancel'><undefined-condition xmlns='${NS_STANZAS}'/></error></message>`,
      );
      await nothing(c.carol!, (m) => m.attrs.id === "e1");
      await nothing(c.alice!, (m) => m.attrs.id === "e1");
    });

    test(`[${kind}] an offline message is checked again when delivered: a clearance lowered meanwhile stops it`, async () => {
      await set("dan", ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]);
      await sendRaw(c.alice!, labelled(jid("dan"), "o1", "secret while dan was away", SECRET));
      await sendRaw(c.alice!, labelled(jid("dan"), "o2", "plain while dan was away"));
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(
        c.alice!.received.filter((m) => m.attrs.type === "error" && /^o/.test(m.attrs.id ?? "")).length,
        0,
      );
      await set("dan", ["UNCLASSIFIED"]);
      const dan = await connectClient(server, "dan", PASSWORD);
      try {
        const plain = await dan.waitFor((m) => m.attrs.id === "o2", 8000);
        assert.equal(plain.getChildText("body"), "UNCLASSIFIED\nplain while dan was away");
        await nothing(dan, (m) => m.attrs.id === "o1");
      } finally {
        await dan.stop();
      }
    });

    test(`[${kind}] Cordon stopped: messages are refused with a wait error; Cordon back: delivered`, async () => {
      await guard.stop();
      await sendRaw(c.alice!, labelled(jid("bob"), "d1", "while down", SECRET));
      await sendRaw(c.alice!, labelled(jid("bob"), "d2", "unlabelled while down"));
      for (const id of ["d1", "d2"]) {
        const error = await c.alice!.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
        assert.equal(errorOf(error)?.attrs.type, "wait");
      }
      await nothing(c.bob!, (m) => m.attrs.id === "d1" || m.attrs.id === "d2");
      await startGuard();
      await sendRaw(c.alice!, labelled(jid("bob"), "d3", "back", SECRET));
      const got = await c.bob!.waitFor((m) => m.attrs.id === "d3", 8000);
      assert.equal(got.getChildText("body"), "SECRET\nback");
    });
  });
}
