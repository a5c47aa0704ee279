// Review keep15: a cached catalog is keyed by the target as the client wrote it, and names it (`to`):
// an attribute value read off the request, so a V8 view of the text the parser read (a substring
// of 13 characters or more keeps its parent). Kept as it came, each cached catalog kept its
// request's whole socket read alive behind the key the cache counts. What the cache keeps is its own.
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, type Element } from "@cordon/component";
import { MemoryStore } from "@cordon/store";
import { clearance, demoCatalogService } from "./fixtures.js";
import { CatalogCache } from "../src/catalog-cache.js";
import { emptyCatalog } from "../src/catalog.js";

test("cached catalogs do not keep their requests' text alive", async (t) => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const store = new MemoryStore();
  await store.setUserClearance("alice@example.test", clearance("SECRET", ["ALPHA"]));
  await store.setUserClearance("bob@example.test", clearance("CONFIDENTIAL"));
  const service = demoCatalogService(store);
  const ask = async (i: number): Promise<void> => {
    const parser = createParser();
    let iq: Element | undefined;
    parser.on("start", () => undefined);
    parser.on("element", (el) => {
      if (el.name === "iq") iq = el;
    });
    // One socket read: another stanza's large body, then the request.
    parser.write(
      `<stream><message to='bob@example.test'><body>${"x".repeat(200_000)}</body></message>` +
        `<iq type='get' id='c${i}' from='alice@example.test/desk' to='catalog.example.test'>` +
        `<catalog xmlns='urn:xmpp:sec-label:catalog:2' to='bob@example.test/the desk number ${i}'/></iq>`,
    );
    const outcome = await service.component.iq.route(iq!);
    assert.equal(outcome.kind, "result");
  };
  try {
    await ask(-1);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i++) await ask(i);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(service.cache.size, 201);
    // (what a small catalog weighs, for the default budget: README "Caching")
    t.diagnostic(`${service.cache.size} catalogs: ${service.cache.bytes} bytes counted`);
    assert.ok(grown < 10_000_000, `${(grown / 1e6).toFixed(1)} MB kept for ${service.cache.size} catalogs`);
  } finally {
    await service.stop();
    await store.close();
  }
});

// Bounded by a count before (10,000 entries), the cache kept every catalog it was given: 300 stored
// catalogs with a 100 KB description each (a store record, as large as its writer made it) held
// 60 MB. Now at most the budget.
test("the memory cached catalogs keep is bounded by the byte budget", (t) => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const budget = 4 * 1024 * 1024;
  const cache = new CatalogCache(budget);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 300; i++)
    cache.set(
      CatalogCache.key(`u${i}@example.test`, "bob@example.test", "example.test"),
      emptyCatalog("bob@example.test", "site", String(i).padEnd(100_000, "d")),
      [`user:u${i}@example.test`],
      cache.generation,
      0,
    );
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  t.diagnostic(
    `${(grown / 1e6).toFixed(1)} MB kept for ${cache.size} catalogs (${cache.bytes} bytes counted)`,
  );
  assert.ok(cache.bytes <= budget);
  assert.ok(grown < budget + 2_000_000, `${(grown / 1e6).toFixed(1)} MB kept for ${cache.size} catalogs`);
});
