import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicyRegistry } from "../src/registry.js";
import { UnknownPolicyError } from "../src/errors.js";
import { loadPolicy } from "../src/spif/load.js";
import { corpusText } from "./corpus.js";

test("lookup by OID and name, atomic replacement bumps the generation", () => {
  const r = new PolicyRegistry();
  const food = r.loadString(corpusText("food-policy.xml"));
  assert.equal(r.byId("1.2.826.0.1.6726289.0.0"), food);
  assert.equal(r.byName("Food"), food);
  assert.equal(r.get("Food"), food);
  const g = r.generation;
  const tlp = loadPolicy(corpusText("tlp.xml"));
  r.replaceAll([tlp]);
  assert.ok(r.generation > g);
  assert.equal(r.byName("Food"), undefined);
  assert.equal(r.byId("1.2.826.0.1.6726289.0.2"), tlp);
  assert.throws(
    () => r.require("1.1"),
    (e: unknown) => e instanceof UnknownPolicyError && e.message === "Unknown policy id: 1.1",
  );
});
