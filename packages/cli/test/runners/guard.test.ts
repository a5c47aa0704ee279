// The guard's part of a policy reload (runners/guard.ts guardRebinder): refused, naming the key,
// when a configured label or clearance no longer reads under the new policies — as the MUC's and
// the relay's are (adversarial review adv15: the reload was accepted and the guard then refused
// every unlabelled message, its default bound to a policy no longer loaded).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, copyFileSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFile, silentLogger } from "@cordon/component";
import { readGuardSection } from "@cordon/guard";
import { buildEnvironment, specOptions } from "../../src/environment.js";
import { PolicyReloader } from "../../src/reload.js";
import { guardRebinder } from "../../src/runners/guard.js";

const demoPolicy = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../../deploy/quickstart/demo-policy.xml",
);

test("a reload under which the guard's default label no longer reads is refused; one under which it reads is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-guard-reload-"));
  try {
    copyFileSync(demoPolicy, join(dir, "policy.xml"));
    writeFileSync(
      join(dir, "cordon.yaml"),
      "policies: [policy.xml]\ncomponents: { guard: { domain: guard.a.test, secret: s, served: [a.test], defaultLabel: { classification: UNCLASSIFIED, categories: [GBR] } } }\n",
    );
    const config = loadConfigFile(join(dir, "cordon.yaml"));
    const env = await buildEnvironment(config, silentLogger());
    const settings = readGuardSection(config.components.get("guard")!, specOptions(env));
    const reloader = new PolicyReloader(env, { logger: silentLogger() });
    reloader.add(
      "guard",
      guardRebinder({
        defaultLabel: settings.defaultLabel,
        accessLabel: undefined,
        locations: settings.locations,
        otherLocations: undefined,
      }),
    );

    const generation = env.registry.generation;
    await reloader.reload();
    assert.ok(env.registry.generation > generation, "the same policy again: accepted");

    // The policy under another OID (the configured one removed): the default does not read.
    const text = readFileSync(demoPolicy, "utf8");
    const without = text.replace(/id="1\.3\.6\.1\.4\.1\.99999\.1\.1"/, 'id="1.3.6.1.4.1.99999.9.9"');
    assert.notEqual(without, text);
    writeFileSync(join(dir, "policy.xml"), without);
    const before = env.registry.generation;
    // Was: accepted (no guard rebinder), generation moved, every unlabelled message refused after.
    await assert.rejects(
      reloader.reload(),
      /component guard cannot use the new policies: defaultLabel does not read/,
    );
    assert.equal(env.registry.generation, before);

    // A policy under which the default reads but is not valid (GBR now excludes UNCLASSIFIED) is
    // refused too, as such a configuration is at start.
    const strict = text.replace(
      '<tagCategory name="GBR" lacv="1"/>',
      '<tagCategory name="GBR" lacv="1"><excludedClass>UNCLASSIFIED</excludedClass></tagCategory>',
    );
    assert.notEqual(strict, text);
    writeFileSync(join(dir, "policy.xml"), strict);
    await assert.rejects(
      reloader.reload(),
      /component guard cannot use the new policies: defaultLabel is not valid/,
    );
    assert.equal(env.registry.generation, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
