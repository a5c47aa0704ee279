// Issue 17: a user target's "no label" item is offered only when the guard would let an unlabelled
// message through from the requester to that user (src/unlabelled.ts): the guard's default label
// exists, is valid under its policy and passes the one-to-one rule; re-read at a policy reload.
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadPolicy, makeLabel, type Label, type PolicyRegistry } from "@cordon/policy";
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
} from "./fixtures.js";

const D = "example.test";
/** The demo catalog, non-restrictive, with a "no label" item. */
const OPEN_CATALOG = {
  ...DEMO_CATALOG,
  restrict: false,
  items: [...DEMO_CATALOG.items, { selector: "none" }],
};

describe("catalog for a user target: the 'no label' item follows the guard's default label", () => {
  let store: MemoryStore;
  let registry: PolicyRegistry;
  const running: CatalogService[] = [];

  function service(guardDefaultLabel?: Label): CatalogService {
    const svc = demoCatalogService(store, {
      registry,
      catalogs: new Map([[D, parseCatalogSpec(OPEN_CATALOG, registry)]]),
      ...(guardDefaultLabel ? { guardDefaultLabel } : {}),
    });
    running.push(svc);
    return svc;
  }
  const noLabel = async (svc: CatalogService, requester: string, target: string) =>
    (await svc.catalogFor({ requester, home: D, target })).items.some((i) => !i.label);

  beforeEach(async () => {
    store = new MemoryStore();
    registry = demoRegistry();
    await store.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    await store.setUserClearance(`bob@${D}`, clearance("CONFIDENTIAL"));
    await store.setUserClearance(`carol@${D}`, clearance("UNCLASSIFIED"));
  });
  afterEach(async () => {
    for (const svc of running.splice(0)) await svc.stop();
    await store.close();
  });

  test("no guard default label: unlabelled is refused, so no 'no label' item (the server target keeps it)", async () => {
    const svc = service();
    assert.equal(await noLabel(svc, `alice@${D}`, `bob@${D}`), false);
    assert.equal(await noLabel(svc, `alice@${D}`, D), true, "a server target is not a one-to-one message");
  });

  test("a default label both parties (and the server) are cleared for: offered; one the recipient is not: not", async () => {
    const svc = service(label(registry, "CONFIDENTIAL"));
    assert.equal(await noLabel(svc, `alice@${D}`, `bob@${D}`), true);
    assert.equal(
      await noLabel(svc, `alice@${D}`, `carol@${D}`),
      false,
      "carol is not cleared for CONFIDENTIAL",
    );
    assert.equal(await noLabel(svc, `carol@${D}`, `bob@${D}`), false, "the sender is not cleared either");
    await store.setServiceClearance(D, clearance("UNCLASSIFIED"));
    svc.cache.clear();
    assert.equal(await noLabel(svc, `alice@${D}`, `bob@${D}`), false, "nor is the server");
  });

  test("a default label its policy excludes (default-label-invalid): not offered", async () => {
    const policy = registry.policies()[0]!;
    const excluded = makeLabel(
      policy,
      policy.classifications.find((c) => c.name === "UNCLASSIFIED")!,
      policy.categories.filter((c) => c.name === "ALPHA"),
    );
    const svc = service(excluded);
    assert.equal(await noLabel(svc, `alice@${D}`, `bob@${D}`), false);
  });

  test("a policy reload re-reads the default label (one bound to the old Policy grants nothing)", async () => {
    const svc = service(label(registry, "CONFIDENTIAL"));
    assert.equal(await noLabel(svc, `alice@${D}`, `bob@${D}`), true);
    registry.replaceAll([loadPolicy(readFileSync(DEMO_POLICY_FILE, "utf8"))]);
    assert.equal(await noLabel(svc, `alice@${D}`, `bob@${D}`), true);
    assert.equal(await noLabel(svc, `alice@${D}`, `carol@${D}`), false);
  });
});
