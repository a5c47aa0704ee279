// The catalog of a temporary room through the delegated route (issue 15 item 9), on real Prosody and
// real ejabberd with real clients: Gajim asks its own server for the catalog of the room it is in;
// the server delegates to the catalog component, which does not find a temporary room in the store
// and asks the room itself on the user's behalf (`<catalog from>`); the MUC answers that only for
// the catalog domains it trusts. First with the catalog in this process beside the MUC, then with
// the catalog run by `cordon start` in a process of its own (its own empty store).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import { join } from "node:path";
import { startServer, serverKinds, xml, type XmppServer, type TestClient } from "@cordon/harness";
import { NS_SEC_LABEL_CATALOG, type Element } from "@cordon/component";
import { createCatalogService, type CatalogService } from "@cordon/catalog";
import { MemoryStore } from "@cordon/store";
import type { MucService } from "@cordon/muc";
import { loadDemo, repoRoot, startDemoMuc, ALL_CLASSES } from "../src/demo.js";
import * as single from "../src/muc-service-fixture.js";
import { startCli, untilOnline } from "../src/cordon-process.js";

const demo = loadDemo();
const USERS = ["alice", "bob", "carol"];

const selectors = (catalog: Element | undefined): string[] =>
  (catalog?.getChildren("item") ?? []).map((i) => String(i.attrs.selector));

for (const kind of serverKinds()) {
  describe(`catalog of temporary rooms on ${kind}`, () => {
    const domain = `${kind}-live.test`;
    const rooms = `rooms.${domain}`;
    const catalogDomain = `catalog.${domain}`;
    const secret = "live-secret";
    let server: XmppServer;
    const store = new MemoryStore();
    let muc: MucService;
    let catalog: CatalogService | undefined;
    const c: Record<string, TestClient> = {};

    const askServer = (client: TestClient, target: string) =>
      client.iq(
        xml("iq", { type: "get", to: domain }, xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: target })),
        10_000,
      );
    /** Asks until the server delegates (ejabberd activates a delegation after the component's disco#info). */
    const delegated = async (client: TestClient, target: string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          return await askServer(client, target);
        } catch (error) {
          const condition = (error as { condition?: string }).condition;
          if (condition !== "service-unavailable" || Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [
          { domain: rooms, secret },
          { domain: catalogDomain, secret },
        ],
        users: USERS.map((u) => ({ username: u, password: `${u}-pw` })),
        delegations: [{ namespace: NS_SEC_LABEL_CATALOG, component: catalogDomain }],
      });
      await single.setClearances(store, demo, domain, USERS, (u) =>
        u === "carol" ? ["UNCLASSIFIED"] : ALL_CLASSES,
      );
      muc = await startDemoMuc(demo, {
        server,
        mucDomain: rooms,
        localDomain: domain,
        secret,
        store,
        settings: { catalogServices: [catalogDomain] },
      });
      catalog = createCatalogService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: catalogDomain,
        secret,
        served: [domain],
        muc: [rooms],
        registry: demo.registry,
        store,
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await catalog.start();
      await single.connectUsers(server, USERS, c);
      // A temporary room (the default), created and configured as an instant room by alice.
      await single.openRoom(`adhoc@${rooms}`, [
        [c.alice!, "Alice"],
        [c.carol!, "Carol"],
      ]);
      assert.equal(await store.getRoom(`adhoc@${rooms}`), undefined, "a temporary room is not stored");
    });

    after(async () => {
      for (const client of Object.values(c)) await client.stop().catch(() => undefined);
      await catalog?.stop();
      await muc?.stop();
      await store.close();
      await server?.stop();
    });

    test(`[${kind}] a temporary room's catalog, asked of the own server, holds the labels the requester may use there`, async () => {
      const result = await delegated(c.alice!, `adhoc@${rooms}`);
      assert.equal(result.attrs.from, domain);
      const got = result.getChild("catalog", NS_SEC_LABEL_CATALOG);
      assert.deepEqual(selectors(got), ["UNCLASSIFIED", "SECRET"]);
      assert.equal(got?.getChildren("item")[0]?.attrs.default, "true");
      assert.equal(got?.attrs.restrict, "true");
      // Judged on the requester's clearance, not the catalog service's.
      const carol = await askServer(c.carol!, `adhoc@${rooms}`);
      assert.deepEqual(selectors(carol.getChild("catalog", NS_SEC_LABEL_CATALOG)), ["UNCLASSIFIED"]);
    });

    test(`[${kind}] no such room: item-not-found; nobody else may ask a room on another's behalf`, async () => {
      await assert.rejects(
        askServer(c.alice!, `nope@${rooms}`),
        (e: Error & { condition?: string }) => e.condition === "item-not-found",
      );
      // bob asks the room directly for alice's catalog: refused, nothing of hers is answered.
      await assert.rejects(
        c.bob!.iq(
          xml(
            "iq",
            { type: "get", to: `adhoc@${rooms}` },
            xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: `adhoc@${rooms}`, from: `carol@${domain}` }),
          ),
        ),
        (e: Error & { condition?: string }) => e.condition === "forbidden",
      );
    });

    test(`[${kind}] with the catalog in a process of its own (cordon start, its own empty store)`, async () => {
      await catalog?.stop();
      catalog = undefined;
      const dir = mkdtempSync(join(tmpdir(), "cordon-live-catalog-"));
      const config = join(dir, "cordon.yaml");
      writeFileSync(
        config,
        [
          "log: { level: info }",
          `server: { host: 127.0.0.1, port: ${server.componentPort} }`,
          `policies: [${join(repoRoot, "deploy/quickstart/demo-policy.xml")}]`,
          "components:",
          "  catalog:",
          `    domain: ${catalogDomain}`,
          "    secret: { env: CATALOG_SECRET }",
          `    served: [${domain}]`,
          `    muc: [${rooms}]`,
          "",
        ].join("\n"),
      );
      const run = startCli(config, { CATALOG_SECRET: secret });
      const child = run.child;
      try {
        await untilOnline(run);
        const result = await delegated(c.alice!, `adhoc@${rooms}`);
        assert.deepEqual(selectors(result.getChild("catalog", NS_SEC_LABEL_CATALOG)), [
          "UNCLASSIFIED",
          "SECRET",
        ]);
        const carol = await askServer(c.carol!, `adhoc@${rooms}`);
        assert.deepEqual(selectors(carol.getChild("catalog", NS_SEC_LABEL_CATALOG)), ["UNCLASSIFIED"]);
        // The room destroyed: its catalog is gone too.
        await c.alice!.iq(
          xml(
            "iq",
            { type: "set", to: `adhoc@${rooms}` },
            xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, xml("destroy", {})),
          ),
        );
        await assert.rejects(
          askServer(c.alice!, `adhoc@${rooms}`),
          (e: Error & { condition?: string }) => e.condition === "item-not-found",
        );
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
}
