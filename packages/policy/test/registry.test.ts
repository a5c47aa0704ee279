import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicyRegistry } from "../src/registry.js";
import { UnknownPolicyError } from "../src/errors.js";
import { loadPolicy } from "../src/spif/load.js";
import { corpusText, HARBOUR, TLP } from "./corpus.js";

test("lookup by OID and name, atomic replacement bumps the generation", () => {
  const r = new PolicyRegistry();
  const harbour = r.loadString(corpusText("harbour-policy.xml"));
  assert.equal(r.byId(HARBOUR), harbour);
  assert.equal(r.byName("Harbour"), harbour);
  assert.equal(r.get("Harbour"), harbour);
  const g = r.generation;
  const tlp = loadPolicy(corpusText("tlp-policy.xml"));
  r.replaceAll([tlp]);
  assert.ok(r.generation > g);
  assert.equal(r.byName("Harbour"), undefined);
  assert.equal(r.byId(TLP), tlp);
  assert.throws(
    () => r.require("1.1"),
    (e: unknown) => e instanceof UnknownPolicyError && e.message === "Unknown policy id: 1.1",
  );
});
