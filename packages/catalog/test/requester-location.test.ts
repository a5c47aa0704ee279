// Issue 17: toward a user, the catalog offers only what the guard lets through from the session
// asking — its client-location rule (@cordon/rules client-location.ts) on the requesting session's
// address, asked of its server (@cordon/rules SessionLocations, session-address.ts). Fail closed: a
// session whose address cannot be learnt gets nothing; no locations configured: nothing is asked.
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseElement, NS_SEC_LABEL_CATALOG, type Element } from "@cordon/component";
import { clearanceFromSpec, loadPolicy, type PolicyRegistry } from "@cordon/policy";
import type { ClientLocationOptions, SessionAddress } from "@cordon/rules";
import { MemoryStore } from "@cordon/store";
import type { CatalogService } from "../src/catalog-service.js";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import {
  clearance,
  demoCatalogService,
  demoRegistry,
  label,
  DEMO_CATALOG,
  DEMO_POLICY_FILE,
  rawLabel,
} from "./fixtures.js";

const D = "example.test";
const CLEARED = "10.1.0.7";
const ANNEX = "10.9.0.7";
/** The demo catalog, non-restrictive, with a "no label" item. */
const OPEN_CATALOG = {
  ...DEMO_CATALOG,
  restrict: false,
  items: [...DEMO_CATALOG.items, { selector: "none" }],
};

const sites = (registry: PolicyRegistry, other?: string[]): ClientLocationOptions => {
  const c = (names: string[]) =>
    clearanceFromSpec({ policy: "Cordon Demo", classifications: names }, "test", { registry });
  return {
    locations: [
      { ranges: ["10.1.0.0/16"], clearance: c(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]) },
      { ranges: ["10.9.0.0/16"], clearance: c(["UNCLASSIFIED"]) },
    ],
    ...(other ? { otherLocations: c(other) } : {}),
  };
};

/** The labels alice (SECRET, ALPHA) may send bob (SECRET), and "no label": where nothing else bounds them. */
const BOTH_CLEARED = ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "none"];

/** Where each session is, as its server would tell; each question recorded. */
function addresses(where: Record<string, string | undefined>, asked: string[]): SessionAddress {
  return async (session) => {
    asked.push(session);
    return where[session];
  };
}

const selectors = (el: Element | undefined) => (el?.getChildren("item") ?? []).map((i) => i.attrs.selector);
const request = (from: string, target: string) =>
  parseElement(
    `<iq type='get' id='c1' from='${from}' to='catalog.${D}'><catalog xmlns='${NS_SEC_LABEL_CATALOG}' to='${target}'/></iq>`,
  );

describe("catalog toward a user: the requesting session's location (the guard's client-location rule)", () => {
  let store: MemoryStore;
  let registry: PolicyRegistry;
  let asked: string[];
  const running: CatalogService[] = [];

  function service(
    where: Record<string, string | undefined>,
    locations?: ClientLocationOptions,
    catalogs = new Map([[D, parseCatalogSpec(OPEN_CATALOG, registry)]]),
  ) {
    const svc = demoCatalogService(store, {
      registry,
      catalogs,
      guardDefaultLabel: label(registry, "UNCLASSIFIED"),
      sessionAddress: addresses(where, asked),
      // bob's one session is at the cleared site (the recipient side: recipient-location.test.ts).
      recipientSessions: async () => [{ resource: "desk", ip: CLEARED }],
      remoteRequests: true,
      ...(locations ? { guardLocations: locations } : {}),
    });
    running.push(svc);
    return svc;
  }
  const ask = async (svc: CatalogService, from: string, target: string) => {
    const outcome = await svc.component.iq.route(request(from, target));
    assert.equal(outcome.kind, "result");
    return outcome.kind === "result" ? outcome.payload : undefined;
  };

  beforeEach(async () => {
    store = new MemoryStore();
    registry = demoRegistry();
    asked = [];
    await store.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    await store.setUserClearance(`bob@${D}`, clearance("SECRET"));
  });
  afterEach(async () => {
    for (const svc of running.splice(0)) await svc.stop();
    await store.close();
  });

  test("no locations configured: nothing asked, every label both are cleared for", async () => {
    const svc = service({ [`alice@${D}/r`]: ANNEX });
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)), BOTH_CLEARED);
    assert.deepEqual(asked, []);
  });

  test("a session at the UNCLASSIFIED-only site is offered UNCLASSIFIED (and 'no label'); at the cleared site, everything", async () => {
    const svc = service({ [`alice@${D}/annex`]: ANNEX, [`alice@${D}/hq`]: CLEARED }, sites(registry));
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/annex`, `bob@${D}`)), ["UNCLASSIFIED", "none"]);
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/hq`, `bob@${D}`)), BOTH_CLEARED);
    assert.deepEqual(asked, [`alice@${D}/annex`, `alice@${D}/hq`]);
  });

  test("the cache keeps each location apart: the cleared site's catalog is never served to the annex", async () => {
    const where: Record<string, string | undefined> = { [`alice@${D}/r`]: CLEARED };
    const svc = service(where, sites(registry));
    assert.equal(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)).length, 4);
    assert.equal(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)).length, 4);
    assert.equal(svc.cache.misses, 1, "the same location: from the cache");
    // The same full JID, now a session at the annex (the old one ended, a new one bound).
    where[`alice@${D}/r`] = ANNEX;
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)), ["UNCLASSIFIED", "none"]);
    // Another address of the same range: the same location, from the cache.
    where[`alice@${D}/r`] = "10.9.200.1";
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)), ["UNCLASSIFIED", "none"]);
    assert.equal(svc.cache.misses, 2, "computed for the annex once, then from the cache");
    assert.equal(asked.length, 4, "asked every time: a session's address is never cached");
  });

  test("an address that cannot be learnt, or in no range: an empty, restrictive catalog — not even 'no label'", async () => {
    const svc = service(
      { [`alice@${D}/gone`]: undefined, [`alice@${D}/away`]: "192.0.2.1" },
      sites(registry),
    );
    for (const session of [`alice@${D}/gone`, `alice@${D}/away`]) {
      const el = await ask(svc, session, `bob@${D}`);
      assert.deepEqual(selectors(el), [], session);
      assert.equal(el?.attrs.restrict, "true", session);
    }
    // A served server asking on a user's behalf names no session: unknown, nothing asked.
    asked.length = 0;
    const behalf = await svc.component.iq.route(
      parseElement(
        `<iq type='get' id='c2' from='${D}' to='catalog.${D}'><catalog xmlns='${NS_SEC_LABEL_CATALOG}' to='bob@${D}' from='alice@${D}'/></iq>`,
      ),
    );
    assert.deepEqual(selectors(behalf.kind === "result" ? behalf.payload : undefined), []);
    assert.deepEqual(asked, []);
    // So is an operator's query without a session (catalogFor with no `session`).
    assert.deepEqual(
      (await svc.catalogFor({ requester: `alice@${D}`, home: D, target: `bob@${D}` })).items,
      [],
    );
  });

  test("otherLocations: an address in no range takes its clearance", async () => {
    const svc = service({ [`alice@${D}/r`]: "192.0.2.1" }, sites(registry, ["UNCLASSIFIED", "CONFIDENTIAL"]));
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)), [
      "UNCLASSIFIED",
      "CONFIDENTIAL",
      "none",
    ]);
  });

  test("only user targets: a server target or a remote requester is not located (nothing asked)", async () => {
    await store.setPeerClearance("remote.test", "inbound", clearance("SECRET"));
    const svc = service({ [`alice@${D}/r`]: ANNEX }, sites(registry));
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/r`, D)), [
      "UNCLASSIFIED",
      "SECRET",
      "CONFIDENTIAL",
      "SECRET|ALPHA",
      "none",
    ]);
    // (The guard judges a remote sender's message without a location: origin s2s.)
    assert.deepEqual(selectors(await ask(svc, `carl@remote.test/r`, `bob@${D}`)), BOTH_CLEARED);
    assert.deepEqual(asked, []);
  });

  test("a policy reload re-reads the locations' clearances (one bound to the old Policy would grant nothing)", async () => {
    const catalogs = new Map([[D, parseCatalogSpec(OPEN_CATALOG, registry)]]);
    const where = { [`alice@${D}/r`]: CLEARED, [`alice@${D}/annex`]: ANNEX };
    const svc = service(where, sites(registry), catalogs);
    assert.equal(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)).length, 4);
    registry.replaceAll([loadPolicy(readFileSync(DEMO_POLICY_FILE, "utf8"))]);
    // (The configured catalog re-read under the new policies, as `cordon start`'s rebinder does.)
    catalogs.set(D, parseCatalogSpec(OPEN_CATALOG, registry));
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/r`, `bob@${D}`)), BOTH_CLEARED);
    assert.deepEqual(selectors(await ask(svc, `alice@${D}/annex`, `bob@${D}`)), ["UNCLASSIFIED", "none"]);
  });
});

describe("catalog toward a stored room: the requesting session's location (adv17b)", () => {
  test("a session at the UNCLASSIFIED-only site is not offered SECRET for a room (the room's own catalog does not either)", async () => {
    const store = new MemoryStore();
    const registry = demoRegistry();
    await store.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    await store.putRoom({
      jid: `ops@rooms.${D}`,
      config: { catalogRestrict: true },
      clearance: clearance("SECRET"),
      defaultLabel: rawLabel("UNCLASSIFIED"),
      affiliations: {},
      persistent: true,
    });
    const asked: string[] = [];
    const svc = demoCatalogService(store, {
      registry,
      sessionAddress: addresses({ [`alice@${D}/annex`]: ANNEX, [`alice@${D}/hq`]: CLEARED }, asked),
      guardLocations: sites(registry),
    });
    try {
      const ask = async (from: string) => {
        const outcome = await svc.component.iq.route(request(from, `ops@rooms.${D}`));
        assert.equal(outcome.kind, "result");
        return selectors(outcome.kind === "result" ? outcome.payload : undefined);
      };
      assert.ok((await ask(`alice@${D}/hq`)).includes("SECRET"), "the cleared session is offered SECRET");
      assert.deepEqual(await ask(`alice@${D}/annex`), ["UNCLASSIFIED"]);
      assert.deepEqual(await ask(`alice@${D}/gone`), [], "an unknown location: nothing");
    } finally {
      await svc.stop();
      await store.close();
    }
  });
});
