// The catalog runner reads the guard's default label from the same config (issue 17): a user
// target's "no label" item follows it (packages/catalog/src/unlabelled.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "@cordon/component";
import { readFileSync } from "node:fs";
import { loadPolicy, PolicyRegistry } from "@cordon/policy";
import { checkGuardSettings, guardDefaultLabelOf, guardSettingsOf } from "../../src/runners/catalog.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../deploy/quickstart/demo-policy.xml"),
);
const spec = { registry, policy: policy.id };
const catalog = ["components:", "  catalog: { domain: catalog.a.test, secret: s, served: [a.test] }"];
const configWith = (...lines: string[]) => parseConfig([...catalog, ...lines, ""].join("\n"));

test("the catalog takes components.guard.defaultLabel, read as the guard reads it", () => {
  const label = guardDefaultLabelOf(
    configWith(
      "  guard: { domain: guard.a.test, secret: s, served: [a.test], defaultLabel: { classification: CONFIDENTIAL } }",
    ),
    spec,
  );
  assert.equal(label?.classification.name, "CONFIDENTIAL");
  assert.equal(label?.policy, policy);
});

test("no guard section, or a guard without defaultLabel: none (user targets get no 'no label' item)", () => {
  assert.equal(guardDefaultLabelOf(configWith(), spec), undefined);
  assert.equal(
    guardDefaultLabelOf(configWith("  guard: { domain: guard.a.test, secret: s, served: [a.test] }"), spec),
    undefined,
  );
});

test("the catalog takes components.guard.locations and otherLocations, read as the guard reads them", () => {
  const read = guardSettingsOf(
    configWith(
      "  guard:",
      "    domain: guard.a.test",
      "    secret: s",
      "    served: [a.test]",
      "    locations:",
      "      - { ranges: [10.9.0.0/16], clearance: { classifications: [UNCLASSIFIED] } }",
      "    otherLocations: { classifications: [UNCLASSIFIED, RESTRICTED] }",
    ),
    spec,
  );
  assert.equal(read.defaultLabel, undefined);
  assert.deepEqual(read.locations?.locations[0]?.ranges, ["10.9.0.0/16"]);
  assert.equal(read.locations?.locations[0]?.clearance.policy, policy);
  assert.equal(read.locations?.otherLocations?.policy, policy);
  // No ranges: no location rule, nothing handed to the catalog (it asks no server anything).
  assert.equal(
    guardSettingsOf(configWith("  guard: { domain: guard.a.test, secret: s, served: [a.test] }"), spec)
      .locations,
    undefined,
  );
  assert.deepEqual(guardSettingsOf(configWith(), spec), {});
});

test("a reload under which a guard location's clearance no longer reads is refused, naming the key", () => {
  const reg = new PolicyRegistry();
  const file = resolve(
    dirname(fileURLToPath(import.meta.url)),
    "../../../../../deploy/quickstart/demo-policy.xml",
  );
  const demo = reg.loadFileSync(file);
  const { locations } = guardSettingsOf(
    configWith(
      "  guard:",
      "    domain: guard.a.test",
      "    secret: s",
      "    served: [a.test]",
      "    locations: [{ ranges: [10.9.0.0/16], clearance: { classifications: [UNCLASSIFIED] } }]",
    ),
    { registry: reg, policy: demo.id },
  );
  const same = new PolicyRegistry();
  same.loadFileSync(file);
  checkGuardSettings({ locations }, same); // the same policy again: reads
  const other = new PolicyRegistry();
  other.replaceAll([
    loadPolicy(
      readFileSync(file, "utf8").replace(/id="1\.3\.6\.1\.4\.1\.99999\.1\.1"/, 'id="1.3.6.1.4.1.99999.9.9"'),
    ),
  ]);
  assert.throws(
    () => checkGuardSettings({ locations }, other),
    /components\.guard\.locations\[0\]\.clearance does not read under the new policies/,
  );
});
