// The catalog routes (src/admin/routes/catalogs.ts) through the pure admin handler: the catalog a
// user would get is the catalog service's own answer (a real service over the same store, never
// connected), and stored catalogs are checked by the service's own parser before they are stored.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createCatalogService, type CatalogService } from "@cordon/catalog";
import { errorCode, fixture, type Fixture } from "./people-fixture.js";

const D = "example.test";
const who = { user: "officer", role: "admin" as const };

describe("catalog routes", () => {
  let f: Fixture;
  let service: CatalogService;
  before(async () => {
    f = await fixture({ catalog: (q) => service.catalogFor(q) });
    service = createCatalogService({
      service: "xmpp://127.0.0.1:1",
      domain: `catalog.${D}`,
      secret: "s",
      served: [D],
      registry: f.env.registry,
      store: f.env.store,
    });
  });
  after(async () => {
    await service.stop().catch(() => undefined);
    await f.close();
  });

  const SPEC = {
    name: "Demo labels",
    items: [
      { selector: "UNCLASSIFIED", default: true, label: { classification: "UNCLASSIFIED" } },
      { selector: "SECRET", label: { classification: "SECRET" } },
      { selector: "TOP SECRET", label: { classification: "TOP SECRET" } },
    ],
  };

  test("PUT a stored catalog by names: checked by the service's parser, stored, audited; bad ones refused", async () => {
    const put = await f.send("PUT", `/catalogs/stored/${D}`, JSON.stringify(SPEC), "application/json", who);
    assert.equal(put.status, 200, put.body);
    const stored = JSON.parse((await f.env.store.getCatalog({ kind: "domain", domain: D })) ?? "{}") as {
      items: { label?: { policy?: string } }[];
    };
    assert.equal(
      stored.items[0]?.label?.policy,
      "1.3.6.1.4.1.99999.1.1",
      "labels name their policy in the store",
    );
    const record = f.audit.records.at(-1) as unknown as Record<string, unknown>;
    assert.deepEqual([record.action, record.actor, record.target], ["catalog-set", "officer", `domain:${D}`]);
    const got = await f.send("GET", `/catalogs/stored/${D}`);
    assert.deepEqual(
      (got.json.items as { selector: string; marking: { text: string; bg?: string } }[]).map((i) => [
        i.selector,
        i.marking.text,
        i.marking.bg,
      ]),
      [
        ["UNCLASSIFIED", "UNCLASSIFIED", "green"],
        ["SECRET", "SECRET", "red"],
        ["TOP SECRET", "TOP SECRET", "orange"],
      ],
    );
    const bad = await f.send(
      "PUT",
      `/catalogs/stored/${D}`,
      JSON.stringify({ items: [{ label: { classification: "NOPE" } }] }),
    );
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad), "CORDON_ADMIN_BAD_REQUEST");
    const two = await f.send(
      "PUT",
      `/catalogs/stored/${D}`,
      JSON.stringify({ items: [{ default: true }, { default: true }] }),
    );
    assert.equal(two.status, 400);
    assert.equal(
      (await f.send("GET", "/catalogs/stored/bob%40example.test")).status,
      400,
      "kind needed for a JID",
    );
  });

  test("GET /catalogs: the catalog a user would get, the service's own answer, changing with the clearance", async () => {
    const ask = () => f.send("GET", `/catalogs?requester=bob%40${D}&target=${D}`);
    const none = await ask();
    assert.equal(none.status, 200);
    assert.deepEqual(none.json.items, [], "no clearance, no labels");
    await f.send(
      "PUT",
      `/clearances/bob%40${D}`,
      JSON.stringify({ classifications: ["UNCLASSIFIED", "SECRET"] }),
    );
    const r = await ask();
    assert.equal(r.json.name, "Demo labels");
    assert.deepEqual(
      (r.json.items as { selector: string; default: boolean; marking: { text: string } }[]).map((i) => [
        i.selector,
        i.default,
        i.marking.text,
      ]),
      [
        ["UNCLASSIFIED", true, "UNCLASSIFIED"],
        ["SECRET", false, "SECRET"],
      ],
    );
    const direct = await service.catalogFor({ requester: `bob@${D}`, home: D, target: D });
    assert.equal(r.json.id, direct.id, "exactly the service's catalog");
    assert.equal((await f.send("GET", `/catalogs?requester=${D}&target=${D}`)).status, 400);
    const refused = await f.send("GET", `/catalogs?requester=bob%40${D}&target=far.away.test`);
    assert.equal(refused.status, 422);
    assert.equal(errorCode(refused), "CORDON_ADMIN_CATALOG_REFUSED");
  });

  test("DELETE a stored catalog; without a catalog component the view is 404 not running", async () => {
    assert.equal((await f.send("DELETE", `/catalogs/stored/${D}`, "", "application/json", who)).status, 200);
    assert.equal(await f.env.store.getCatalog({ kind: "domain", domain: D }), undefined);
    assert.equal((await f.send("DELETE", `/catalogs/stored/${D}`)).status, 404);
    const bare = await fixture();
    try {
      const r = await bare.send("GET", `/catalogs?requester=bob%40${D}&target=${D}`);
      assert.equal(r.status, 404);
      assert.equal(errorCode(r), "CORDON_ADMIN_NOT_RUNNING");
    } finally {
      await bare.close();
    }
  });
});
