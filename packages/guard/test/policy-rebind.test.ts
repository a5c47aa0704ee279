// The guard's configured labels and clearances across a policy reload (src/policy-rebind.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { acdf, loadPolicy, makeClearance, makeLabel, PolicyRegistry } from "@cordon/policy";
import { rebindGuard } from "../src/policy-rebind.js";

const text = readFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
  "utf8",
);

test("labels and clearances re-read under the new Policy objects; one that does not read keeps its old binding", () => {
  const registry = new PolicyRegistry();
  const old = registry.register(loadPolicy(text));
  const cls = (name: string) => old.classifications.find((c) => c.name === name)!;
  const bound = {
    defaultLabel: makeLabel(old, cls("UNCLASSIFIED"), []),
    accessLabel: makeLabel(old, cls("CONFIDENTIAL"), []),
    locations: [{ ranges: ["10.0.0.0/8"], clearance: makeClearance(old, [cls("SECRET")], []) }],
    otherLocations: makeClearance(old, [cls("UNCLASSIFIED")], []),
  };
  registry.replaceAll([loadPolicy(text)]);
  const now = registry.policies()[0]!;
  const unreadable: string[] = [];
  const next = rebindGuard(bound, registry, (what) => unreadable.push(what));
  assert.equal(unreadable.length, 0);
  for (const l of [next.defaultLabel!, next.accessLabel!]) assert.equal(l.policy, now);
  assert.equal(next.locations[0]!.clearance.policy, now);
  assert.deepEqual(next.locations[0]!.ranges, ["10.0.0.0/8"]);
  assert.equal(next.otherLocations!.policy, now);
  // Granted under the new policy (was: the old binding, denied by policy mismatch).
  const everything = makeClearance(now, now.classifications, now.categories);
  assert.equal(acdf(next.defaultLabel, everything).granted, true);
  assert.equal(acdf(bound.defaultLabel, everything).granted, false);

  // A policy set without it: nothing reads; each value is kept as it was (it grants nothing) and told.
  const other = text.replace(/id="1\.3\.6\.1\.4\.1\.99999\.1\.1"/, 'id="1.3.6.1.4.1.99999.9.9"');
  registry.replaceAll([loadPolicy(other)]);
  const kept = rebindGuard(next, registry, (what) => unreadable.push(what));
  assert.deepEqual(unreadable, ["defaultLabel", "accessLabel", "locations[0].clearance", "otherLocations"]);
  assert.equal(kept.defaultLabel, next.defaultLabel);
  assert.equal(kept.accessLabel, next.accessLabel);
});
