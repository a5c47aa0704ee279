import { test } from "node:test";
import assert from "node:assert/strict";
import { CatalogCache } from "../src/catalog-cache.js";
import { emptyCatalog } from "../src/catalog.js";
import { xml } from "@cordon/component";

test("entries are dropped by the notifications they depend on", () => {
  const cache = new CatalogCache();
  const k1 = CatalogCache.key("alice@x", "bob@x", "x");
  const k2 = CatalogCache.key("carol@x", "room@rooms.x", "x");
  cache.set(k1, emptyCatalog("bob@x"), ["user:alice@x", "user:bob@x"], cache.generation, 0);
  cache.set(k2, emptyCatalog("room@rooms.x"), ["user:carol@x", "room:room@rooms.x"], cache.generation, 0);
  assert.ok(cache.get(k1, 0) && cache.get(k2, 0));
  cache.invalidate({ kind: "user-clearance", jid: "bob@x" });
  assert.equal(cache.get(k1, 0), undefined);
  assert.ok(cache.get(k2, 0));
  cache.invalidate({ kind: "room", jid: "room@rooms.x" });
  assert.equal(cache.get(k2, 0), undefined);
  assert.equal(cache.size, 0);
});

test("a catalog event clears everything; a policy reload makes entries stale", () => {
  const cache = new CatalogCache();
  cache.set("a", emptyCatalog("a"), ["user:a"], cache.generation, 1);
  assert.equal(cache.get("a", 2), undefined);
  cache.set("b", emptyCatalog("b"), ["user:b"], cache.generation, 1);
  cache.invalidate({ kind: "catalog", scope: { kind: "domain", domain: "x" } });
  assert.equal(cache.get("b", 1), undefined);
});

test("a catalog computed across a notification is not stored; the cache is bounded", () => {
  const one = new CatalogCache();
  one.set("a", emptyCatalog("a"), [], one.generation, 0);
  const cache = new CatalogCache(2 * one.bytes);
  const before = cache.generation;
  cache.invalidate({ kind: "peer-clearance", domain: "peer.test", direction: "outbound" });
  cache.set("late", emptyCatalog("x"), [], before, 0);
  assert.equal(cache.get("late", 0), undefined);
  for (const k of ["a", "b", "c"]) cache.set(k, emptyCatalog(k), [], cache.generation, 0);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("a", 0), undefined);
});

// Bounded by a count before (10,000 entries): a catalog's weight is what its records hold (a
// stored catalog's name and description, its labels), so the count said nothing of the memory.
test("the cache is bounded in bytes: large catalogs take the room they weigh", () => {
  const budget = 1024 * 1024;
  const cache = new CatalogCache(budget);
  const deps = (i: number) => [`user:u${i}@x`, "service:x"];
  for (let i = 0; i < 100; i++)
    cache.set(`k${i}`, emptyCatalog(`t${i}@x`, "name", "d".repeat(50_000)), deps(i), cache.generation, 0);
  assert.ok(cache.bytes <= budget, `${cache.bytes} bytes held`);
  assert.equal(cache.size, 10);
  assert.ok(cache.get("k99", 0) && !cache.get("k89", 0));
  // An evicted entry left the index by dependency: its notification finds nothing to drop.
  cache.invalidate({ kind: "user-clearance", jid: "u0@x" });
  assert.equal(cache.size, 10);
  cache.invalidate({ kind: "service-clearance", domain: "x" });
  assert.equal(cache.size, 0);
  assert.equal(cache.bytes, 0);
  // Larger than the whole budget: not kept, and not indexed.
  cache.set("big", emptyCatalog("big@x", "n", "d".repeat(600_000)), ["user:big@x"], cache.generation, 0);
  assert.equal(cache.size, 0);
});

test("a serialised form is weighed with its entry", () => {
  const cache = new CatalogCache(64 * 1024);
  cache.set("a", emptyCatalog("a@x"), ["user:a@x"], cache.generation, 0);
  cache.set("b", emptyCatalog("b@x"), ["user:b@x"], cache.generation, 0);
  const before = cache.bytes;
  const a = cache.get("a", 0)!;
  const built = cache.element("a", a, "urn:xmpp:sec-label:catalog:2", () =>
    xml("catalog", { xmlns: "urn:xmpp:sec-label:catalog:2", desc: "x".repeat(10_000) }),
  );
  assert.ok(cache.bytes >= before + 20_000, `${before} -> ${cache.bytes}`);
  assert.equal(
    cache.element("a", a, "urn:xmpp:sec-label:catalog:2", () => xml("other")),
    built,
  );
  // Too large to stay with its form: it goes (with its place in the index), the other stays.
  const huge = cache.element("a", a, "urn:xmpp:sec-label:catalog:1", () =>
    xml("catalog", { desc: "x".repeat(40_000) }),
  );
  assert.equal(huge.name, "catalog", "the form is still answered");
  assert.equal(cache.get("a", 0), undefined);
  assert.ok(cache.get("b", 0));
  cache.invalidate({ kind: "user-clearance", jid: "a@x" });
  assert.ok(cache.get("b", 0));
});

test("entries age out, so a change nobody announced is picked up within the maximum age", () => {
  let now = 1_000;
  const cache = new CatalogCache(undefined, 60_000, () => now);
  cache.set("a", emptyCatalog("a"), ["user:a"], cache.generation, 0);
  now += 60_000;
  assert.ok(cache.get("a", 0), "still fresh at the limit");
  now += 1;
  assert.equal(cache.get("a", 0), undefined, "served past its maximum age");
  assert.equal(cache.size, 0);
});
