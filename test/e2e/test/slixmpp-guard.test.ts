// A real third-party client (Debian's python3-slixmpp 1.8.3, clients/slix.py) against Cordon's
// catalog (XEP-0258 §3, delegated by XEP-0355) and guard (issue 17), on real Prosody and ejabberd.
// The catalog request and the labelled messages are built with slixmpp's xep_0258 stanza classes;
// the recipients load no label plugin, as slixmpp users do (docs/clients.md §3: FLOT). Python3-nbxmpp
// (Gajim's library) asks the same catalog. One host serves both, the catalog a trusted component.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, connectClient, xml, type XmppServer, type TestClient } from "@cordon/harness";
import type { CatalogService } from "@cordon/catalog";
import { NS_SEC_LABEL_CATALOG, parseElement, type Element } from "@cordon/component";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";
import { PythonClient, runPythonOnce } from "../src/python-client.js";

const demo = loadDemo();
const NS_LABEL = "urn:xmpp:sec-label:0";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const PASSWORD = "slix-pw";
const UP_TO: Record<string, string[]> = {
  alice: ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"],
  bob: ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"],
  carol: ["UNCLASSIFIED"],
};

interface Item {
  selector: string;
  default: boolean;
  marking: string;
}
/** A catalog's items as XEP-0258 §3 writes them (`<item>` children), for the comparison. */
const itemsOf = (catalog: Element | undefined): Item[] =>
  (catalog?.getChildren("item") ?? []).map((i) => ({
    selector: String(i.attrs.selector),
    default: i.attrs.default === "true",
    marking: i.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking") ?? "",
  }));
const condition = (s: Element) =>
  s
    .getChild("error")
    ?.getChildElements()
    .find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== "text")?.name;

for (const kind of serverKinds()) {
  describe(`slixmpp with the catalog and the guard on ${kind}`, () => {
    const domain = `${kind}-slix.test`;
    const catalogDomain = `catalog.${domain}`;
    const jid = (u: string) => `${u}@${domain}`;
    const store = new MemoryStore();
    let server: XmppServer;
    let guard: GuardService;
    let catalog: CatalogService;
    let reference: TestClient;
    const slix: Record<string, PythonClient> = {};

    /** The catalog slixmpp alice (xep_0258) gets from her own server for `target`: raw and parsed. */
    const slixCatalog = async (target: string) => {
      const answer = await slix.alice!.ask({ op: "catalog", to: domain, target });
      assert.equal(answer.error, undefined, String(answer.error));
      const iq = parseElement(String(answer.xml));
      return { iq, catalog: iq.getChild("catalog", NS_SEC_LABEL_CATALOG), plugin: answer.items as Item[] };
    };
    const labelOf = (catalogEl: Element | undefined, selector: string): string => {
      const item = catalogEl?.getChildren("item").find((i) => i.attrs.selector === selector);
      const label = item?.getChild("securitylabel", NS_LABEL);
      assert.ok(label, `catalog item ${selector}`);
      return label.toString();
    };

    before(async () => {
      // One host with the guard and the catalog's delegation, as deploy/README.md has them: the
      // catalog among the guard's trusted components (else Prosody's module judges its delegated
      // answers as another domain's and drops them: docs/clients.md §5).
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol", "ref"],
          cleared: [],
          password: PASSWORD,
          guard: { timeoutSeconds: 2, trusted: [catalogDomain] },
        },
        {
          components: [{ domain: catalogDomain, secret: "catalog" }],
          delegations: [{ namespace: NS_SEC_LABEL_CATALOG, component: catalogDomain }],
        },
      );
      for (const [u, classes] of Object.entries({ ...UP_TO, ref: UP_TO.alice! }))
        await store.setUserClearance(jid(u), demo.raw(demo.clearance(classes)));
      guard = await guarded.startGuard(demo, server, domain, { store });
      // xmpp.js, the clients every other test uses: the reference answer (and the client the
      // fixture waits with until the server delegates).
      reference = await connectClient(server, "ref", PASSWORD);
      catalog = await guarded.startGuardedCatalog(demo, server, domain, store, reference);
      slix.alice = await PythonClient.connect("slix.py", server, "alice", PASSWORD, ["xep_0258"]);
      slix.bob = await PythonClient.connect("slix.py", server, "bob", PASSWORD, ["xep_0258"]);
      slix.carol = await PythonClient.connect("slix.py", server, "carol", PASSWORD, []);
    });

    after(async () => {
      for (const c of Object.values(slix)) await c.stop();
      await catalog?.stop();
      await reference?.stop();
      await guarded.stopGuarded(server, guard, []);
    });

    test(`[${kind}] slixmpp's catalog request for a contact is answered by Cordon's catalog: the labels it may send, default first`, async () => {
      const { iq, catalog: got, plugin } = await slixCatalog(jid("bob"));
      assert.equal(iq.attrs.type, "result");
      assert.equal(iq.attrs.from, domain);
      // The same question from xmpp.js (another user cleared like alice): the same items.
      const ref = await reference.iq(
        xml(
          "iq",
          { type: "get", to: domain },
          xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: jid("bob") }),
        ),
      );
      const expected = itemsOf(ref.getChild("catalog", NS_SEC_LABEL_CATALOG));
      assert.deepEqual(itemsOf(got), expected);
      // What alice may send bob: both are cleared for UNCLASSIFIED and CONFIDENTIAL, not SECRET.
      assert.deepEqual(
        itemsOf(got).map((i) => i.selector),
        ["UNCLASSIFIED", "CONFIDENTIAL"],
      );
      const first = got?.getChildren("item")[0];
      assert.equal(first?.attrs.default, "true");
      assert.ok(first?.getChild("securitylabel", NS_LABEL)?.getChild("label")?.getChildElements()[0]);
      assert.equal(got?.attrs.to, jid("bob"));
      // Found with this test: slixmpp 1.8.3's CatalogItem stanza is named "catalog", not "item"
      // (XEP-0258 §3), so its plugin parses no item of a conforming catalog. docs/clients.md §5.
      assert.deepEqual(plugin, []);
    });

    test(`[${kind}] nbxmpp (Gajim's library) asks the same catalog and would preselect the real default label`, async () => {
      const answer = await runPythonOnce("nbxmpp_catalog.py", {
        host: server.host,
        port: server.c2sPort,
        jid: jid("alice"),
        password: PASSWORD,
        target: jid("bob"),
      });
      assert.equal(answer.error, undefined, String(answer.error));
      // nbxmpp keeps only items with a <securitylabel> (docs/clients.md §1): every item here has one.
      assert.deepEqual(answer.labels, ["UNCLASSIFIED", "CONFIDENTIAL"]);
      assert.equal(answer.default, "UNCLASSIFIED");
      assert.deepEqual(answer.markings, { UNCLASSIFIED: "UNCLASSIFIED", CONFIDENTIAL: "CONFIDENTIAL" });
    });

    test(`[${kind}] slixmpp alice's labelled message reaches cleared bob with the policy's marking first (FLOT)`, async () => {
      const { catalog: got } = await slixCatalog(jid("bob"));
      const label = labelOf(got, "CONFIDENTIAL");
      await slix.alice!.ask({ op: "labelled", to: jid("bob"), id: "c1", body: "for bob", label });
      const msg = await slix.bob!.waitFor((m) => m.attrs.id === "c1");
      assert.equal(msg.getChildText("body"), "CONFIDENTIAL\nfor bob");
      assert.equal(msg.getChild("securitylabel", NS_LABEL)?.getChildText("displaymarking"), "CONFIDENTIAL");
    });

    test(`[${kind}] to uncleared carol: alice gets forbidden carrying nothing of the message`, async () => {
      const { catalog: got } = await slixCatalog(jid("bob"));
      const label = labelOf(got, "CONFIDENTIAL");
      await slix.alice!.ask({ op: "labelled", to: jid("carol"), id: "c2", body: "not for carol", label });
      const error = await slix.alice!.waitFor((m) => m.attrs.id === "c2" && m.attrs.type === "error");
      assert.equal(condition(error), "forbidden");
      assert.equal(error.getChild("body"), undefined);
      assert.equal(error.getChild("securitylabel", NS_LABEL), undefined);
      assert.ok(!error.toString().includes("not for carol"));
      await guarded.sleep(700);
      assert.ok(!slix.carol!.received.some((m) => m.attrs.id === "c2"));
    });

    test(`[${kind}] slixmpp bob claiming a label above his clearance is refused`, async () => {
      // SECRET from alice's catalog of her own server: bob (cleared to CONFIDENTIAL) may not send it.
      const { catalog: own } = await slixCatalog(domain);
      const label = labelOf(own, "SECRET");
      await slix.bob!.ask({ op: "labelled", to: jid("alice"), id: "c3", body: "over-claimed", label });
      const error = await slix.bob!.waitFor((m) => m.attrs.id === "c3" && m.attrs.type === "error");
      assert.equal(condition(error), "forbidden");
      await guarded.sleep(700);
      assert.ok(!slix.alice!.received.some((m) => m.attrs.id === "c3"));
    });
  });
}
