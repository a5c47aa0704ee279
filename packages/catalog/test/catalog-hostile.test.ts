// Hostile catalog requests: targets written to dodge the cache's invalidation, targets the store
// refuses, and spellings of one target sharing a cache entry.
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { parseElement, NS_SEC_LABEL_CATALOG, type Element, type IqOutcome } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import type { CatalogService } from "../src/catalog-service.js";
import { clearance, demoCatalogService } from "./fixtures.js";

const D = "example.test";
let store: MemoryStore;
let service: CatalogService;

const selectors = (el: Element | undefined) => (el?.getChildren("item") ?? []).map((i) => i.attrs.selector);
const payloadOf = (o: IqOutcome) => (o.kind === "result" ? o.payload : undefined);
const conditionOf = (o: IqOutcome) => (o.kind === "error" ? o.spec.condition : undefined);

function direct(from: string, target: string) {
  return parseElement(
    `<iq type='get' id='c1' from='${from}' to='catalog.${D}'><catalog xmlns='${NS_SEC_LABEL_CATALOG}' to='${target}'/></iq>`,
  );
}

describe("catalog service: hostile targets", () => {
  beforeEach(async () => {
    store = new MemoryStore();
    service = demoCatalogService(store);
    await store.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
  });
  afterEach(async () => {
    await service.stop();
    await store.close();
  });

  test("a target written in another Unicode form is still invalidated by its clearance change", async () => {
    // The store keys JIDs in NFC (RFC 7622): "\u00e9ric" and "e\u0301ric" are the same user.
    await store.setUserClearance(`\u00e9ric@${D}`, clearance("SECRET"));
    const decomposed = `e\u0301ric@${D}`;
    const before = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, decomposed)));
    assert.deepEqual(selectors(before), ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL"]);
    await store.setUserClearance(`\u00e9ric@${D}`, clearance("UNCLASSIFIED"));
    await new Promise((r) => setImmediate(r));
    const after = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, decomposed)));
    assert.deepEqual(
      selectors(after),
      ["UNCLASSIFIED"],
      "the cached catalog survived the target's clearance change",
    );
  });

  test("a target the store cannot key is jid-malformed, not internal-server-error", async () => {
    for (const target of [`a b@${D}`, `a:b@${D}`, `x@bad$domain.org`, `room&amp;x@rooms.${D}`]) {
      const outcome = await service.component.iq.route(direct(`alice@${D}/r`, target));
      assert.equal(conditionOf(outcome), "jid-malformed", target);
      assert.equal(
        outcome.kind === "error" ? outcome.cause : undefined,
        undefined,
        `${target}: not a handler failure`,
      );
    }
  });

  test("the answer names the target as this request wrote it, also from the cache", async () => {
    const first = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `Bob@${D}/one`)));
    assert.equal(first?.attrs.to, `Bob@${D}/one`);
    const second = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `bob@${D}`)));
    assert.equal(second?.attrs.to, `bob@${D}`);
    assert.equal(
      (await service.catalogFor({ requester: `alice@${D}`, home: D, target: `bob@${D}/two` })).to,
      `bob@${D}/two`,
    );
  });
});
