// Policy hot reload against a real environment (memory store) built from a config file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, copyFileSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFile, silentLogger } from "@cordon/component";
import { acdf, labelFromSpec, makeClearance } from "@cordon/policy";
import { buildEnvironment, specOptions } from "../src/environment.js";
import { PolicyReloader } from "../src/reload.js";
import { createMetrics } from "../src/metrics/registry.js";

const demoPolicy = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../deploy/quickstart/demo-policy.xml",
);

test("a good reload switches the registry and re-binds; a bad one keeps the old set and says why", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-reload-"));
  try {
    copyFileSync(demoPolicy, join(dir, "policy.xml"));
    writeFileSync(
      join(dir, "cordon.yaml"),
      "policies: [policy.xml]\ncomponents: { example: { domain: a.test, secret: s } }\nlabels: { S: { classification: SECRET } }\n",
    );
    const config = loadConfigFile(join(dir, "cordon.yaml"));
    const env = await buildEnvironment(config, silentLogger());
    const metrics = createMetrics({ processMetrics: false });
    const reloader = new PolicyReloader(env, { logger: silentLogger(), metrics });
    const labels = config.root.section("labels");
    const readLabel = (e: typeof env) => labels.parse("S", (v, k) => labelFromSpec(v, k, specOptions(e)));
    let held = readLabel(env);
    let installed = 0;
    reloader.add("test", {
      prepare(next) {
        const fresh = readLabel({ ...env, registry: next.registry, governing: next.governing });
        return () => {
          held = fresh;
          installed++;
        };
      },
    });
    const before = env.registry.generation;
    const oldPolicy = env.governing;
    const summary = await reloader.reload();
    assert.equal(installed, 1);
    assert.ok(summary.generation > before);
    assert.notEqual(env.governing, oldPolicy, "a new Policy object");
    assert.equal(held.policy, env.governing, "the held label is bound to the new policy");
    const secret = makeClearance(
      env.governing,
      env.governing.classifications.filter((c) => c.name === "SECRET"),
      [],
    );
    assert.equal(acdf(held, secret).granted, true);

    // Broken file: rejected, nothing changes.
    writeFileSync(join(dir, "policy.xml"), readFileSync(demoPolicy, "utf8").slice(0, 200));
    const governing = env.governing;
    const generation = env.registry.generation;
    await assert.rejects(
      reloader.reload(),
      (e: Error & { code?: string; file?: string }) =>
        e.code === "CORDON_POLICY_RELOAD_REJECTED" && e.file === join(dir, "policy.xml"),
    );
    assert.equal(env.governing, governing);
    assert.equal(env.registry.generation, generation);
    assert.equal(installed, 1);

    // A component that cannot re-bind rejects the reload too.
    copyFileSync(demoPolicy, join(dir, "policy.xml"));
    reloader.add("picky", {
      prepare() {
        throw new Error("room x: label does not parse");
      },
    });
    await assert.rejects(reloader.reload(), /component picky cannot use the new policies: room x/);
    assert.equal(env.registry.generation, generation);
    const body = (await metrics.text()).body;
    assert.match(body, /^cordon_policy_reloads_total\{result="ok"\} 1$/m);
    assert.match(body, /^cordon_policy_reloads_total\{result="rejected"\} 2$/m);
    await env.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an uploaded policy: nothing runs between the components' re-reading and their install (adv15)", async () => {
  // The MUC's rebinder re-reads every room in prepare and writes them back in install: anything
  // run in between (an owner's room change, a join) is lost or left on the old policies. Was: the
  // upload's file write was awaited between the two, and callbacks ran there.
  const dir = mkdtempSync(join(tmpdir(), "cordon-reload-upload-"));
  try {
    copyFileSync(demoPolicy, join(dir, "policy.xml"));
    writeFileSync(
      join(dir, "cordon.yaml"),
      "policies: [policy.xml]\ncomponents: { example: { domain: a.test, secret: s } }\n",
    );
    const env = await buildEnvironment(loadConfigFile(join(dir, "cordon.yaml")), silentLogger());
    const reloader = new PolicyReloader(env, { logger: silentLogger() });
    const between: string[] = [];
    let installed = false;
    reloader.add("watcher", {
      prepare() {
        setImmediate(() => between.push(installed ? "after" : "immediate before install"));
        setTimeout(() => between.push(installed ? "after" : "timer before install"), 0);
        void Promise.resolve().then(() => between.push(installed ? "after" : "microtask before install"));
        return () => {
          installed = true;
        };
      },
    });
    const upload = readFileSync(demoPolicy, "utf8").replace("</SPIF>", "<!-- v2 --></SPIF>");
    await reloader.reload({ upload });
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(installed);
    assert.ok(readFileSync(join(dir, "policy.xml"), "utf8").includes("<!-- v2 -->"), "the file replaced");
    assert.deepEqual(
      between.filter((b) => b !== "after"),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
