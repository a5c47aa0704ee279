import { test } from "node:test";
import assert from "node:assert/strict";
import { LabelCache } from "../src/cache.js";
import { UnknownPolicyError } from "../src/errors.js";
import { corpusFile, corpusText, HARBOUR, registryOf } from "./corpus.js";

test("hits return the same label; LRU bound; reload invalidates; errors are cached", () => {
  const r = registryOf("harbour-policy.xml");
  const cache = new LabelCache(r, 2);
  const a = corpusFile("harbour-label-all-kinds.ber");
  const l1 = cache.get(a);
  assert.equal(cache.get(new Uint8Array(a)), l1);
  assert.equal(cache.hits, 1);
  cache.get(corpusFile("harbour-label-crew-cargo.ber"));
  cache.get(corpusText("harbour-label-customs.xml"));
  assert.equal(cache.size, 2);
  r.loadString(corpusText("harbour-policy.xml"));
  const l2 = cache.get(a);
  assert.notEqual(l2, l1);
  assert.equal(l2.policy, r.require(HARBOUR));
  assert.throws(() => cache.get(corpusFile("unknown-policy-label.ber")), UnknownPolicyError);
  assert.throws(() => cache.get(corpusFile("unknown-policy-label.ber")), UnknownPolicyError);
});
