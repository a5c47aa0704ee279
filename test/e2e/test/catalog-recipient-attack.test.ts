// Review adv17e: attacks on the catalog's recipient-location rule and the modules' <sessions/>
// question (issue 17), on real Prosody and real ejabberd.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serverKinds, xml, IqErrorResponse, type XmppServer, type TestClient } from "@cordon/harness";
import type { CatalogService } from "@cordon/catalog";
import { IqError, NS_GUARD } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { CatalogSites, selectors } from "../src/catalog-sites-fixture.js";

const demo = loadDemo();
const PASSWORD = "adv17e-pw";
for (const kind of serverKinds()) {
  describe(`adv17e: the catalog's recipient rule under attack on ${kind}`, () => {
    const domain = `${kind}-adv17e.test`;
    const sites = new CatalogSites(kind, {
      demo,
      domain,
      password: PASSWORD,
      users: ["alice", "dave", "erin"],
      probe: "alice",
    });
    const { open } = sites;
    const jid = (u: string) => sites.jid(u);
    let server: XmppServer;
    let catalog: CatalogService;

    const catalogOf = (client: TestClient, target: string) => sites.catalogOf(client, target);
    /** Sends `label` from `from` to `to`: "delivered" (at `at`), the error's condition, or "nothing". */
    const outcome = (from: TestClient, to: string, at: TestClient, id: string, label: string) =>
      sites.outcome(from, to, at, id, label).catch(() => "nothing");
    const condition = async (p: Promise<unknown>) =>
      p.then(
        () => "answered",
        (e: unknown) => (e instanceof IqError || e instanceof IqErrorResponse ? e.condition : String(e)),
      );

    before(async () => {
      await sites.start();
      ({ server, catalog } = sites);
    });

    after(() => sites.stop());

    test(`[${kind}] A1: a target's resource written unnormalised (fullwidth): catalog and guard agree`, async () => {
      const desk = await guarded.openSession(server, open, PASSWORD, "dave", "desk", CLEARED_SITE);
      const annex = await guarded.openSession(server, open, PASSWORD, "dave", "annex", UNCLASSIFIED_SITE);
      const hq = await guarded.openSession(server, open, PASSWORD, "alice", "hq", CLEARED_SITE);
      const written = `${jid("dave")}/\uff41\uff4e\uff4e\uff45\uff58`; // "annex" in fullwidth letters
      const offered = selectors(await catalogOf(hq, written));
      const got = await outcome(hq, written, annex, "a1", "SECRET");
      const atDesk = await desk
        .waitFor((m) => m.attrs.id === "a1", 1500)
        .then(
          () => true,
          () => false,
        );
      // The server routes it to the annex session (resourceprep, RFC 3920 §3.4: NFKC); ejabberd's
      // check names it as written, and the guard judged it on all of dave's sessions (desk may):
      // not refused, then not delivered either (annex may not) — the sender never told.
      assert.deepEqual(offered, ["UNCLASSIFIED"]);
      assert.equal(got, "forbidden", "refused, as the annex session's own JID is");
      assert.equal(atDesk, false);
    });

    test(`[${kind}] A2: the target's domain and local part in capitals`, async () => {
      await guarded.openSession(server, open, PASSWORD, "erin", "annex2", UNCLASSIFIED_SITE);
      const hq = await guarded.openSession(server, open, PASSWORD, "alice", "hq2", CLEARED_SITE);
      const offered = selectors(await catalogOf(hq, `ERIN@${domain.toUpperCase()}`));
      console.log(kind, "A2 offered", offered);
      assert.deepEqual(offered, ["UNCLASSIFIED"]);
    });

    test(`[${kind}] A3: <sessions/> in a set, and asked in capitals`, async () => {
      const set = xml(
        "iq",
        { type: "set", to: domain },
        xml("sessions", { xmlns: NS_GUARD, jid: jid("erin") }),
      );
      const r = await condition(catalog.component.request(set, 5000));
      console.log(kind, "A3 set:", r);
      assert.notEqual(r, "answered");
      const caps = xml(
        "iq",
        { type: "get", to: domain },
        xml("sessions", { xmlns: NS_GUARD, jid: `ERIN@${domain.toUpperCase()}` }),
      );
      const told = await catalog.component.request(caps, 5000);
      console.log(kind, "A3 caps:", told.toString());
    });
  });
}
