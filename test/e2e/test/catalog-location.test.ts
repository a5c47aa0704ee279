// Issue 17, the central check: the label catalog toward a user offers exactly what the guard lets
// through from the session asking — including the guard's client-location rule. Real Prosody and
// real ejabberd, the guard module loaded, the catalog delegated (XEP-0355) and among the module's
// trusted components; clients connect from 127.0.0.1 (a site cleared for everything) or 127.0.0.2
// (one cleared for UNCLASSIFIED only). The catalog learns the requesting session's address from
// the module (`<session xmlns='urn:cordon:guard:0' jid/>`), which answers only the guard and the
// trusted components. Before this change the annex session was offered SECRET and CONFIDENTIAL,
// which the guard then refused (L1 failed on both servers).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  sendRaw,
  serverKinds,
  xml,
  IqErrorResponse,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import type { CatalogService } from "@cordon/catalog";
import { IqError, NS_GUARD, type CordonComponent, type Element } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { CatalogSites, selectors } from "../src/catalog-sites-fixture.js";

const demo = loadDemo();
const PASSWORD = "catloc-pw";
const message = (to: string, id: string, label: string) =>
  `<message to='${to}' id='${id}' type='chat'><body>catalogued</body>${label}</message>`;

for (const kind of serverKinds()) {
  describe(`the catalog and the guard's client locations on ${kind} (issue 17)`, () => {
    const domain = `${kind}-catloc.test`;
    const cliCatalogDomain = `cli-catalog.${domain}`;
    const sites = new CatalogSites(kind, {
      demo,
      domain,
      password: PASSWORD,
      users: ["alice", "bob"],
      probe: "bob",
      trusted: [{ domain: cliCatalogDomain, secret: "cli-secret" }],
      untrusted: true,
    });
    const { catalogDomain, open } = sites;
    const jid = (u: string) => sites.jid(u);
    let server: XmppServer;
    let catalog: CatalogService;
    let untrusted: CordonComponent;

    /** The catalog `client` gets from its own server (delegated) or from the component, toward `target`. */
    const catalogOf = (client: TestClient, target: string, to = domain) =>
      sites.catalogOf(client, target, to);
    /** Sends `label` from `from` to bob's session; "delivered" or the error's condition. */
    const outcome = async (from: TestClient, bob: TestClient, id: string, label: string) => {
      await sendRaw(from, message(jid("bob"), id, demo.labelXml(demo.label(label))));
      const got = await Promise.race([
        bob.waitFor((m) => m.attrs.id === id, 8000).then(() => "delivered"),
        from
          .waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000)
          .then((e) => e.getChild("error")?.getChildElements()[0]?.name ?? "error"),
      ]);
      return got;
    };

    before(async () => {
      await sites.start();
      ({ server, catalog } = sites);
      untrusted = sites.untrusted!;
    });

    after(() => sites.stop());

    test(`[${kind}] L1: a session at the UNCLASSIFIED-only site is offered only what the guard lets through`, async () => {
      const bob = await guarded.openSession(server, open, PASSWORD, "bob", "desk", CLEARED_SITE);
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex", UNCLASSIFIED_SITE);
      const delegated = await catalogOf(annex, jid("bob"));
      assert.deepEqual(selectors(delegated), ["UNCLASSIFIED"]);
      assert.deepEqual(
        selectors(await catalogOf(annex, jid("bob"), catalogDomain)),
        ["UNCLASSIFIED"],
        "direct",
      );
      // Exactly what the guard does with each label from that session.
      for (const [i, label] of ["SECRET", "CONFIDENTIAL", "UNCLASSIFIED"].entries())
        assert.equal(
          await outcome(annex, bob, `l1-${i}`, label),
          label === "UNCLASSIFIED" ? "delivered" : "forbidden",
          label,
        );
    });

    test(`[${kind}] L2: a session at the cleared site is offered the full set — the same user, the cache kept apart`, async () => {
      const bob = await guarded.openSession(server, open, PASSWORD, "bob", "desk2", CLEARED_SITE);
      const hq = await guarded.openSession(server, open, PASSWORD, "alice", "hq", CLEARED_SITE);
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex2", UNCLASSIFIED_SITE);
      for (let round = 0; round < 2; round++) {
        assert.deepEqual(selectors(await catalogOf(hq, jid("bob"))), [
          "UNCLASSIFIED",
          "SECRET",
          "CONFIDENTIAL",
        ]);
        assert.deepEqual(selectors(await catalogOf(annex, jid("bob"))), ["UNCLASSIFIED"]);
      }
      for (const [i, label] of ["SECRET", "CONFIDENTIAL", "UNCLASSIFIED"].entries())
        assert.equal(await outcome(hq, bob, `l2-${i}`, label), "delivered", label);
      // Another target kind is not located: the server's catalog is the same from both sites.
      assert.deepEqual(selectors(await catalogOf(annex, domain)), selectors(await catalogOf(hq, domain)));
    });

    test(`[${kind}] L3: the module tells a session's address to the trusted catalog only`, async (t) => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex3", UNCLASSIFIED_SITE);
      const ask = (c: CordonComponent, who: string) =>
        c.request(
          xml("iq", { type: "get", to: domain }, xml("session", { xmlns: NS_GUARD, jid: who })),
          5000,
        );
      const told = await ask(catalog.component, annex.jid);
      assert.match(String(told.getChild("session", NS_GUARD)?.attrs.ip), /^(::ffff:)?127\.0\.0\.2$/);
      // What the question costs a catalog request toward a user (each one asks: never cached).
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const start = process.hrtime.bigint();
        await ask(catalog.component, annex.jid);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      times.sort((a, b) => a - b);
      t.diagnostic(
        `session question round trip: median ${times[50]?.toFixed(2)} ms, p90 ${times[90]?.toFixed(2)} ms`,
      );
      await assert.rejects(ask(catalog.component, jid("alice") + "/nobody"), (e: unknown) => {
        assert.ok(e instanceof IqError);
        assert.equal(e.condition, "item-not-found");
        return true;
      });
      // Only the trusted component's own domain, not any JID of it: a trusted component (a MUC)
      // sends under its domain on its users' behalf (room@rooms/nick), which must not be told an
      // address (adv16b: Prosody answered such a JID, ejabberd did not).
      for (const from of [`room@${catalogDomain}/nick`, `${catalogDomain}/resource`]) {
        await assert.rejects(
          catalog.component.request(
            xml("iq", { type: "get", to: domain, from }, xml("session", { xmlns: NS_GUARD, jid: annex.jid })),
            5000,
          ),
          (e: unknown) => {
            assert.ok(e instanceof IqError, `${from}: ${String(e)}`);
            assert.equal(e.condition, "forbidden", from);
            return true;
          },
        );
      }
      // An untrusted component, and a user, are refused: an address is never told to them.
      await assert.rejects(ask(untrusted, annex.jid), (e: unknown) => {
        assert.ok(e instanceof IqError);
        assert.equal(e.condition, "forbidden");
        return true;
      });
      const bob = await guarded.openSession(server, open, PASSWORD, "bob", "nosy", CLEARED_SITE);
      await assert.rejects(
        bob.iq(
          xml("iq", { type: "get", to: domain }, xml("session", { xmlns: NS_GUARD, jid: annex.jid })),
          8000,
        ),
        (e: unknown) => {
          assert.ok(e instanceof IqErrorResponse);
          assert.equal(e.condition, "forbidden");
          assert.doesNotMatch((e.stanza as Element).toString(), /127\.0\.0\.2/);
          return true;
        },
      );
    });

    test(`[${kind}] L4: the address cannot be learnt (the server asks on the user's behalf): nothing labelled is offered`, async () => {
      // The XEP-0258 `<catalog from>` form, a served server for one of its users: no session named.
      const behalf = await catalog.catalogFor({ requester: jid("alice"), home: domain, target: jid("bob") });
      assert.deepEqual(behalf.items, []);
      assert.equal(behalf.restrict, true);
    });

    test(`[${kind}] L5: cordon start reads the guard's locations from the same file for the catalog (--only catalog)`, async () => {
      await guarded.withCordonStart(
        { demo, server, domain, users: ["alice", "bob"] },
        {
          name: "catalog",
          domain: cliCatalogDomain,
          secret: "cli-secret",
          lines: [
            `    served: [${domain}]`,
            "    catalogs:",
            `      ${domain}:`,
            "        items:",
            "          - { selector: UNCLASSIFIED, default: true, label: { classification: UNCLASSIFIED } }",
            "          - { selector: SECRET, label: { classification: SECRET } }",
          ],
        },
        async () => {
          const hq = await guarded.openSession(server, open, PASSWORD, "alice", "hq5", CLEARED_SITE);
          const annex = await guarded.openSession(
            server,
            open,
            PASSWORD,
            "alice",
            "annex5",
            UNCLASSIFIED_SITE,
          );
          assert.deepEqual(selectors(await catalogOf(hq, jid("bob"), cliCatalogDomain)), [
            "UNCLASSIFIED",
            "SECRET",
          ]);
          assert.deepEqual(selectors(await catalogOf(annex, jid("bob"), cliCatalogDomain)), ["UNCLASSIFIED"]);
        },
      );
    });
  });
}
