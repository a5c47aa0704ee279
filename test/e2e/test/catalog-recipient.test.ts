// Issue 17, the central check: the label catalog toward a user offers exactly what the guard lets
// through from the session asking TO THAT USER — the recipient side of the guard's client-location
// rule too (@cordon/rules client-location.ts recipientRefused, the one function decide.ts uses):
// a label none of the user's sessions may have is refused by the guard, so it is not offered. Real
// Prosody and real ejabberd, the guard module loaded, the catalog delegated and trusted; clients
// from 127.0.0.1 (cleared for everything) or 127.0.0.2 (UNCLASSIFIED only). The catalog learns the
// recipient's sessions from his server's module (`<sessions xmlns='urn:cordon:guard:0' jid/>`),
// told to the guard and the trusted components only. On the code before this change every test
// failed on both servers: C1 and C2 (the annex session's full JID) and C4 offered SECRET and
// CONFIDENTIAL; C3 got an error for a question the modules did not know.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, xml, IqErrorResponse, type XmppServer, type TestClient } from "@cordon/harness";
import { createCatalogService, parseCatalogSpec, type CatalogService } from "@cordon/catalog";
import { IqError, NS_GUARD, type CordonComponent, type Element } from "@cordon/component";
import { askingServerSessions } from "@cordon/rules";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, GUARD_CATALOG, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { CatalogSites, selectors } from "../src/catalog-sites-fixture.js";

const demo = loadDemo();
const PASSWORD = "catrcpt-pw";
const ALL = ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL"];
const percentiles = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]?.toFixed(2);
  return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms`;
};

for (const kind of serverKinds()) {
  describe(`the catalog and the recipient's sessions' locations on ${kind} (issue 17)`, () => {
    const domain = `${kind}-catrcpt.test`;
    const benchDomain = `bench.${domain}`;
    const sites = new CatalogSites(kind, {
      demo,
      domain,
      password: PASSWORD,
      users: ["alice", "bob", "carol", "dave"],
      probe: "bob",
      trusted: [{ domain: benchDomain, secret: "bench" }],
      untrusted: true,
    });
    const { catalogDomain, store, open, locations } = sites;
    const jid = (u: string) => sites.jid(u);
    let server: XmppServer;
    let catalog: CatalogService;
    let untrusted: CordonComponent;

    const catalogOf = (client: TestClient, target: string) => sites.catalogOf(client, target);
    /** Sends `label` from `from` to `to`; "delivered" (at `at`) or the error's condition. */
    const outcome = (from: TestClient, to: string, at: TestClient, id: string, label: string) =>
      sites.outcome(from, to, at, id, label);
    const sessionsQuestion = (who: string) =>
      xml("iq", { type: "get", to: domain }, xml("sessions", { xmlns: NS_GUARD, jid: who }));

    before(async () => {
      await sites.start();
      ({ server, catalog } = sites);
      untrusted = sites.untrusted!;
    });

    after(() => sites.stop());

    test(`[${kind}] C1: a recipient with only an annex session is not offered SECRET — and the guard refuses it`, async () => {
      const carol = await guarded.openSession(server, open, PASSWORD, "carol", "annex", UNCLASSIFIED_SITE);
      const hq = await guarded.openSession(server, open, PASSWORD, "alice", "hq", CLEARED_SITE);
      assert.deepEqual(selectors(await catalogOf(hq, jid("carol"))), ["UNCLASSIFIED"]);
      assert.deepEqual(selectors(await catalogOf(hq, carol.jid)), ["UNCLASSIFIED"], "her session's full JID");
      for (const [i, label] of ALL.entries())
        assert.equal(
          await outcome(hq, jid("carol"), carol, `c1-${i}`, label),
          label === "UNCLASSIFIED" ? "delivered" : "forbidden",
          label,
        );
    });

    test(`[${kind}] C2: a recipient with a session at each site is offered everything — delivered to the cleared one`, async (t) => {
      const desk = await guarded.openSession(server, open, PASSWORD, "dave", "desk", CLEARED_SITE);
      const annex = await guarded.openSession(server, open, PASSWORD, "dave", "annex", UNCLASSIFIED_SITE);
      const hq = await guarded.openSession(server, open, PASSWORD, "alice", "hq2", CLEARED_SITE);
      assert.deepEqual(selectors(await catalogOf(hq, jid("dave"))), ALL);
      assert.deepEqual(selectors(await catalogOf(hq, desk.jid)), ALL, "the cleared session");
      assert.deepEqual(selectors(await catalogOf(hq, annex.jid)), ["UNCLASSIFIED"], "the annex session");
      assert.equal(await outcome(hq, jid("dave"), desk, "c2-s", "SECRET"), "delivered");
      assert.equal(await outcome(hq, annex.jid, annex, "c2-a", "SECRET"), "forbidden");
      // What the recipient question adds to a catalog request (asked beside the requester's): the
      // same request at a second trusted catalog told dave's sessions without asking, alternated.
      const told = [
        { resource: "desk", ip: CLEARED_SITE },
        { resource: "annex", ip: UNCLASSIFIED_SITE },
      ];
      const unasked = createCatalogService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: benchDomain,
        secret: "bench",
        served: [domain],
        registry: demo.registry,
        store,
        catalogs: new Map([[domain, parseCatalogSpec(GUARD_CATALOG, demo.registry)]]),
        guardLocations: { locations },
        recipientSessions: async () => told,
      });
      await unasked.start();
      try {
        const query = { requester: jid("alice"), home: domain, target: jid("dave"), session: hq.jid };
        const asked: number[] = [];
        const notAsked: number[] = [];
        const sessions: number[] = [];
        for (let i = 0; i < 200; i++) {
          for (const [svc, into] of [
            [catalog, asked],
            [unasked, notAsked],
          ] as const) {
            const start = process.hrtime.bigint();
            assert.deepEqual(
              (await svc.catalogFor(query)).items.map((it) => it.selector),
              ALL,
            );
            into.push(Number(process.hrtime.bigint() - start) / 1e6);
          }
          const start = process.hrtime.bigint();
          await catalog.component.request(sessionsQuestion(jid("dave")), 5000);
          sessions.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
        t.diagnostic(
          `catalog request toward a user (cache hit): recipient asked ${percentiles(asked)}; not asked ${percentiles(notAsked)}; the <sessions/> round trip alone ${percentiles(sessions)}`,
        );
      } finally {
        await unasked.stop();
      }
    });

    test(`[${kind}] C3: only the trusted catalog is told a user's sessions`, async () => {
      const carol = await guarded.openSession(server, open, PASSWORD, "carol", "annex3", UNCLASSIFIED_SITE);
      const told = (await catalog.component.request(sessionsQuestion(jid("carol")), 5000)).getChild(
        "sessions",
        NS_GUARD,
      );
      const listed = (told?.getChildren("session") ?? []).map((s) => [s.attrs.resource, s.attrs.ip]);
      const annex3 = listed.find(([r]) => r === "annex3");
      assert.ok(annex3, JSON.stringify(listed));
      assert.match(String(annex3[1]), /^(::ffff:)?127\.0\.0\.2$/);
      // No session: an empty list (a message is stored).
      const none = (await catalog.component.request(sessionsQuestion(jid("nobody")), 5000)).getChild(
        "sessions",
        NS_GUARD,
      );
      assert.deepEqual(none?.getChildren("session"), []);
      const refused = (condition: string) => (e: unknown) => {
        assert.ok(e instanceof IqError || e instanceof IqErrorResponse, String(e));
        assert.equal(e.condition, condition);
        return true;
      };
      await assert.rejects(
        catalog.component.request(sessionsQuestion(carol.jid), 5000),
        refused("bad-request"),
      );
      await assert.rejects(untrusted.request(sessionsQuestion(jid("carol")), 5000), refused("forbidden"));
      const from = `room@${catalogDomain}/nick`;
      await assert.rejects(
        catalog.component.request(
          xml(
            "iq",
            { type: "get", to: domain, from },
            xml("sessions", { xmlns: NS_GUARD, jid: jid("carol") }),
          ),
          5000,
        ),
        refused("forbidden"),
      );
      const bob = await guarded.openSession(server, open, PASSWORD, "bob", "nosy3", CLEARED_SITE);
      await assert.rejects(bob.iq(sessionsQuestion(jid("carol")), 8000), (e: unknown) => {
        refused("forbidden")(e);
        assert.doesNotMatch(
          ((e as IqErrorResponse<Element>).stanza as Element).toString(),
          /127\.0\.0\.2|annex/,
        );
        return true;
      });
    });

    test(`[${kind}] C4: the module does not tell (the catalog not trusted): an empty catalog`, async () => {
      // A catalog the module does not answer (forbidden) — its requester's location given as the cleared site.
      const stray = createCatalogService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: `stray.${domain}`,
        secret: "other",
        served: [domain],
        registry: demo.registry,
        store,
        catalogs: new Map([[domain, parseCatalogSpec(GUARD_CATALOG, demo.registry)]]),
        guardLocations: { locations },
        sessionAddress: async () => CLEARED_SITE,
        // The real question, through the untrusted component's link: the module refuses it.
        recipientSessions: askingServerSessions(untrusted),
      });
      try {
        await guarded.openSession(server, open, PASSWORD, "dave", "desk4", CLEARED_SITE);
        const items = (
          await stray.catalogFor({
            requester: jid("alice"),
            home: domain,
            target: jid("dave"),
            session: jid("alice") + "/hq",
          })
        ).items;
        assert.deepEqual(items, []);
      } finally {
        await stray.stop();
      }
    });
  });
}
