import { test } from "node:test";
import assert from "node:assert/strict";
import { LabelCache } from "../src/cache.js";
import { UnknownPolicyError } from "../src/errors.js";
import { corpusFile, corpusText, registryOf } from "./corpus.js";

test("hits return the same label; LRU bound; reload invalidates; errors are cached", () => {
  const r = registryOf("food-policy.xml");
  const cache = new LabelCache(r, 2);
  const a = corpusFile("food-label-milk-chocolate.ber");
  const l1 = cache.get(a);
  assert.equal(cache.get(new Uint8Array(a)), l1);
  assert.equal(cache.hits, 1);
  cache.get(corpusFile("food-label-bacon.ber"));
  cache.get(corpusText("food-label-water.xml"));
  assert.equal(cache.size, 2);
  r.loadString(corpusText("food-policy.xml"));
  const l2 = cache.get(a);
  assert.notEqual(l2, l1);
  assert.equal(l2.policy, r.require("1.2.826.0.1.6726289.0.0"));
  assert.throws(() => cache.get(corpusFile("label-3.ber")), UnknownPolicyError);
  assert.throws(() => cache.get(corpusFile("label-3.ber")), UnknownPolicyError);
});
