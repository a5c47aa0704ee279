// The FLOT form (XEP-0258 §5: the marking as the first line of the body, for a client that shows
// no labels) asked about and from the verdict cache carries what the sender wrote: a carriage
// return and a tab in the body, a tab and CR LF in an attribute. Real servers, a real sender and a
// raw-socket recipient (its bytes as the server wrote them).
// - W1: the same message three times to a label-unaware session — the first asked about (the
//   guard's answer carries the FLOT form), the others served from the module's cache (the body
//   the guard's prefix and the new body's text) — reaches it byte for byte the same each time,
//   with the sender's characters: before (flot13), the one asked about lost them — the guard wrote
//   `\r` and an attribute's tab raw in its answer, and the server's parser, reading it, made CR LF
//   and CR a line feed (XML 1.0 §2.11) and the tab a space (§3.3.3); the cached one kept them.
//   (Read as written: both servers write a text's CR raw to clients — their own serialisers —
//   which a client's parser reads as LF, on either path alike.)
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import type { RawClient } from "../src/raw-client.js";
import { attrEsc as esc, attrOf, textOf } from "../src/wire-xml.js";

const demo = loadDemo();
const PASSWORD = "flot-whitespace-pw";

for (const kind of serverKinds()) {
  describe(`the FLOT form keeps the sender's CR and tabs, asked about or cached, on ${kind} (flot13)`, () => {
    const domain = `${kind}-flotws.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    let decisions = 0;
    const open: TestClient[] = [];
    const raws: RawClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    let n = 0;
    const nextId = (p: string) => `${p}${++n}`;

    const raw = guarded.rawSessions(kind, () => server, domain, raws, PASSWORD);

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob"],
        password: PASSWORD,
        guard: { timeoutSeconds: 3, cacheSeconds: 60 },
      });
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        locations: guarded.twoSites(demo),
        onDecision: () => void decisions++,
      });
    });

    after(async () => {
      for (const client of raws) client.close();
      await guarded.stopGuarded(server, guard, open, 150);
    });

    test(`[${kind}] W1: CR LF, CR and tab in the body, tab and CR LF in attributes — asked about and cached, the same bytes, the sender's characters`, async () => {
      const alice = await guarded.openSession(server, open, PASSWORD, "alice", "w1", CLEARED_SITE);
      const bob = await raw("bob", "plain", CLEARED_SITE, false); // label-unaware: the FLOT form
      const body = "first line\r\nsecond\tcolumn\rthird";
      const parent = "p\tq\r\nr";
      // (The guard's answer carries the FLOT form's body and thread, attributes included, on both
      // servers: compact='2' replaces each top-level child in the stanza's namespace, compact='1'
      // sends the whole message.)
      const shapes: Record<string, (id: string) => string> = {
        thread: (id) =>
          `<message to='${jid("bob")}/plain' id='${id}' type='chat'><body>${esc(body)}</body>` +
          `<thread parent='${esc(parent)}'>t</thread>${SECRET}</message>`,
      };
      for (const [name, shape] of Object.entries(shapes)) {
        const got: string[] = [];
        for (const round of [0, 1, 2]) {
          const id = nextId(`w1${name}`);
          const before = decisions;
          await sendRaw(alice, shape(id));
          const m = await bob.waitMessage(id);
          if (round === 0) assert.equal(decisions - before, 1, `${name}: the first asked about`);
          else assert.equal(decisions - before, 0, `${name}: round ${round} served from the cache`);
          const path = round === 0 ? "asked" : "cached";
          const text = textOf(m, "body");
          assert.equal(
            text,
            `SECRET\n${body}`,
            `${name} ${path}: the FLOT body, the sender's CR and tab: ${JSON.stringify(m)}`,
          );
          assert.equal(
            attrOf(m, "thread", "parent"),
            parent,
            `${name} ${path}: the parent's tab and CR LF: ${JSON.stringify(m)}`,
          );
          got.push(m.replaceAll(id, "ID"));
        }
        const [asked, ...cached] = got;
        for (const c of cached) assert.equal(c, asked, `${name}: cached bytes = asked bytes`);
      }
      await sleep(100);
      await alice.stop();
    });
  });
}
