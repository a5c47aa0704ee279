// components.guard as the guard reads it (src/config.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { readGuardSection } from "../src/config.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const section = (yaml: string) => {
  const reader = parseConfig(`components:\n  guard:\n${yaml.replace(/^/gm, "    ")}`).components.get("guard");
  assert.ok(reader);
  return reader;
};
const base = "domain: guard.example.test\nsecret: s\nserved: [example.test]";
const spec = { registry, policy: policy.id };

// Fixed (never-leak property, seed 1745325766): a default label its policy excludes was accepted
// (the demo policy's compartment BRAVO excludes UNCLASSIFIED) and applied to unlabelled messages.
test("a defaultLabel not valid under its policy is refused, naming the key", () => {
  assert.throws(
    () =>
      readGuardSection(
        section(`${base}\ndefaultLabel: { classification: UNCLASSIFIED, categories: [BRAVO] }`),
        spec,
      ),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.startsWith("components.guard.defaultLabel: the default label is not valid under its policy"),
  );
  const read = readGuardSection(section(`${base}\ndefaultLabel: { classification: UNCLASSIFIED }`), spec);
  assert.equal(read.defaultLabel?.classification.name, "UNCLASSIFIED");
});
