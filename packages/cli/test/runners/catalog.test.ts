// The catalog runner reads the guard's default label from the same config (issue 17): a user
// target's "no label" item follows it (packages/catalog/src/unlabelled.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { guardDefaultLabelOf } from "../../src/runners/catalog.js";

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
