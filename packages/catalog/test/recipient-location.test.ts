// Issue 17: toward a user, the catalog offers only what the guard lets through to that user's
// sessions — the recipient side of its client-location rule (@cordon/rules client-location.ts
// recipientRefused, the one function decide.ts uses): a label none of the user's sessions may
// have (a bare JID), or the named session may not (a full JID), is not offered; a user with no
// session gets what the guard stores for him. Sessions not learnt: an empty catalog (fail closed).
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { clearanceFromSpec, type PolicyRegistry } from "@cordon/policy";
import type { ClientLocationOptions, ToldSession } from "@cordon/rules";
import { MemoryStore } from "@cordon/store";
import type { CatalogService } from "../src/catalog-service.js";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import { clearance, demoCatalogService, demoRegistry, label, DEMO_CATALOG } from "./fixtures.js";

const D = "example.test";
const CLEARED = "10.1.0.7";
const ANNEX = "10.9.0.7";
const ALL = ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL"];

const sites = (registry: PolicyRegistry): ClientLocationOptions => {
  const c = (names: string[]) =>
    clearanceFromSpec({ policy: "Cordon Demo", classifications: names }, "test", { registry });
  return {
    locations: [
      { ranges: ["10.1.0.0/16"], clearance: c(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]) },
      { ranges: ["10.9.0.0/16"], clearance: c(["UNCLASSIFIED"]) },
    ],
  };
};

describe("catalog toward a user: the recipient's sessions' locations (the guard's recipient-location rule)", () => {
  let store: MemoryStore;
  let registry: PolicyRegistry;
  let bob: ToldSession[] | undefined;
  let asked: string[];
  let svc: CatalogService;

  beforeEach(async () => {
    store = new MemoryStore();
    registry = demoRegistry();
    asked = [];
    bob = [];
    await store.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    await store.setUserClearance(`bob@${D}`, clearance("SECRET"));
    svc = demoCatalogService(store, {
      registry,
      catalogs: new Map([[D, parseCatalogSpec(DEMO_CATALOG, registry)]]),
      guardDefaultLabel: label(registry, "UNCLASSIFIED"),
      guardLocations: sites(registry),
      sessionAddress: async () => CLEARED,
      // As bob's server tells them (session-address.ts askingServerSessions): the named one, else all.
      recipientSessions: async (target) => {
        asked.push(target);
        const named = bob?.filter((s) => `bob@${D}/${s.resource}` === target) ?? [];
        return named.length > 0 ? named : bob;
      },
    });
  });
  afterEach(async () => {
    await svc.stop();
    await store.close();
  });
  const offered = async (target: string) =>
    (await svc.catalogFor({ requester: `alice@${D}`, home: D, target, session: `alice@${D}/hq` })).items.map(
      (i) => i.selector,
    );

  test("a resource written as the server does not keep it decides by that session, also from the cache", async () => {
    // Review adv17e A1: "ａｎｎｅｘ" (fullwidth) names bob's session "annex" once prepared. The
    // catalog's key named no session for it (an exact match only) but the set of locations, which
    // is the same when the two sessions swap sites — the second answer came from the first's cache.
    const target = `bob@${D}/\uff41\uff4e\uff4e\uff45\uff58`;
    bob = [
      { resource: "annex", ip: ANNEX },
      { resource: "desk", ip: CLEARED },
    ];
    assert.deepEqual(await offered(target), ["UNCLASSIFIED"]);
    bob = [
      { resource: "annex", ip: CLEARED },
      { resource: "desk", ip: ANNEX },
    ];
    assert.deepEqual(await offered(target), ALL);
  });

  test("only an annex session: nothing above UNCLASSIFIED; one at each site: everything; none: what is stored", async () => {
    bob = [{ resource: "annex", ip: ANNEX }];
    assert.deepEqual(await offered(`bob@${D}`), ["UNCLASSIFIED"]);
    bob = [
      { resource: "annex", ip: ANNEX },
      { resource: "desk", ip: CLEARED },
    ];
    assert.deepEqual(await offered(`bob@${D}`), ALL);
    // Naming the annex session: that session decides; a resource he has none at: all of them.
    assert.deepEqual(await offered(`bob@${D}/annex`), ["UNCLASSIFIED"]);
    assert.deepEqual(await offered(`bob@${D}/desk`), ALL);
    assert.deepEqual(await offered(`bob@${D}/gone`), ALL);
    // Offline: the guard stores it (decided again when replayed).
    bob = [];
    assert.deepEqual(await offered(`bob@${D}`), ALL);
    // A session without a known address is at the unknown location: it may have nothing labelled.
    bob = [{ resource: "x", ip: undefined }];
    assert.deepEqual(await offered(`bob@${D}`), []);
  });

  test("the sessions not learnt: an empty catalog; the cache keyed by their locations, asked every time", async () => {
    bob = undefined;
    assert.deepEqual(await offered(`bob@${D}`), []);
    bob = [{ resource: "annex", ip: ANNEX }];
    assert.deepEqual(await offered(`bob@${D}`), ["UNCLASSIFIED"]);
    // Another annex address: the same set of locations, from the cache.
    bob = [{ resource: "annex2", ip: "10.9.3.3" }];
    assert.deepEqual(await offered(`bob@${D}`), ["UNCLASSIFIED"]);
    assert.equal(svc.cache.misses, 2);
    bob.push({ resource: "desk", ip: CLEARED });
    assert.deepEqual(await offered(`bob@${D}`), ALL);
    assert.equal(svc.cache.misses, 3);
    assert.equal(asked.length, 4, "asked every time: sessions are never cached");
  });

  test("a stored room (MUC left item 1): only what the requesting session's location grants; no session: nothing", async () => {
    await store.putRoom({
      jid: `ops@rooms.${D}`,
      config: {},
      clearance: clearance("SECRET"),
      affiliations: {},
      persistent: true,
    });
    let where = ANNEX;
    await svc.stop();
    svc = demoCatalogService(store, {
      registry,
      catalogs: new Map([[D, parseCatalogSpec(DEMO_CATALOG, registry)]]),
      guardLocations: sites(registry),
      sessionAddress: async () => where,
      recipientSessions: async (target) => {
        asked.push(target);
        return [];
      },
    });
    const room = (session?: string) =>
      svc.catalogFor({
        requester: `alice@${D}`,
        home: D,
        target: `ops@rooms.${D}`,
        ...(session ? { session } : {}),
      });
    assert.deepEqual(
      (await room(`alice@${D}/annex`)).items.map((i) => i.selector),
      ["UNCLASSIFIED"],
    );
    where = CLEARED;
    assert.deepEqual(
      (await room(`alice@${D}/hq`)).items.map((i) => i.selector),
      ALL,
    );
    // A server asking on its user's behalf (no session): not located, nothing labelled.
    assert.deepEqual((await room()).items, []);
    assert.deepEqual(asked, [], "a room has no recipient sessions to ask about");
  });

  test("a server target, a room or a remote domain: the recipient's sessions are not asked", async () => {
    await offered(D);
    await offered(`someone@remote.test`).catch(() => undefined);
    assert.deepEqual(asked, []);
  });
});
