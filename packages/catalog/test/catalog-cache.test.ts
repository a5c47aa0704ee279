import { test } from "node:test";
import assert from "node:assert/strict";
import { CatalogCache } from "../src/catalog-cache.js";
import { emptyCatalog } from "../src/catalog.js";

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
  const cache = new CatalogCache(2);
  const before = cache.generation;
  cache.invalidate({ kind: "peer-clearance", domain: "peer.test", direction: "outbound" });
  cache.set("late", emptyCatalog("x"), [], before, 0);
  assert.equal(cache.get("late", 0), undefined);
  for (const k of ["a", "b", "c"]) cache.set(k, emptyCatalog(k), [], cache.generation, 0);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("a", 0), undefined);
});

test("entries age out, so a change nobody announced is picked up within the maximum age", () => {
  let now = 1_000;
  const cache = new CatalogCache(10, 60_000, () => now);
  cache.set("a", emptyCatalog("a"), ["user:a"], cache.generation, 0);
  now += 60_000;
  assert.ok(cache.get("a", 0), "still fresh at the limit");
  now += 1;
  assert.equal(cache.get("a", 0), undefined, "served past its maximum age");
  assert.equal(cache.size, 0);
});
