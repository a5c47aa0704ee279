import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fuzzOne, mutate, prng, randomInput } from "../src/fuzz.js";
import { CORPUS, corpusFile, registryOf } from "./corpus.js";

const registry = registryOf("harbour-policy.xml", "tlp-extended-policy.xml", "tlp-policy.xml");
// Every label and clearance of the corpus (not the policies, not tests.xml) seeds the mutations.
const seeds = readdirSync(CORPUS)
  .filter((f) => /\.(ber|xml)$/.test(f) && !/-policy\.xml$|^bad-|^tests\.xml$/.test(f))
  .map(corpusFile);

test("BER and XML decoders return a value or a typed error on random and mutated inputs", () => {
  const rnd = prng(4774);
  const tally = { values: 0, typedErrors: 0 };
  for (let i = 0; i < 3000; i++) {
    const input = i % 3 === 0 ? randomInput(rnd) : mutate(seeds[i % seeds.length]!, rnd);
    fuzzOne(input, registry, tally);
  }
  assert.ok(tally.typedErrors > 0);
  assert.ok(tally.values > 0);
});

test("deeply nested and oversized inputs hit limits, not the stack", () => {
  const tally = { values: 0, typedErrors: 0 };
  const deep = new Uint8Array(20000);
  for (let i = 0; i < deep.length; i += 2) [deep[i], deep[i + 1]] = [0x30, 0x80];
  fuzzOne(deep, registry, tally);
  fuzzOne(Buffer.from("<a>".repeat(5000)), registry, tally);
  fuzzOne(Buffer.from("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"), registry, tally);
  assert.equal(tally.values, 0);
});
