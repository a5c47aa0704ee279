import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "@cordon/component";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeEssLabel, labelFromSpec, PolicyRegistry } from "@cordon/policy";
import { readCatalogSection } from "../src/config.js";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import { CatalogSpecError } from "../src/errors.js";
import { demoRegistry, DEMO_OID } from "./fixtures.js";

const registry = demoRegistry();
const section = (yaml: string) => {
  const config = parseConfig(`components:\n  catalog:\n${yaml.replace(/^/gm, "    ")}`);
  const reader = config.components.get("catalog");
  assert.ok(reader);
  return reader;
};

test("reads served and MUC domains, catalogs with the governing policy as default", () => {
  const settings = readCatalogSection(
    section(`domain: catalog.example.test
secret: s
served: [Example.Test]
muc: [rooms.example.test]
catalogs:
  example.test:
    name: Demo
    items:
      - { selector: UNCLASSIFIED, default: true, label: { classification: UNCLASSIFIED } }
      - { label: { policy: Cordon Demo, classification: SECRET, categories: [ALPHA] } }`),
    { registry, policy: DEMO_OID },
  );
  assert.deepEqual(settings.served, ["example.test"]);
  assert.deepEqual(settings.muc, ["rooms.example.test"]);
  assert.equal(settings.remoteRequests, false);
  assert.equal(settings.catalogs.get("example.test")?.items.length, 2);
  assert.equal(settings.catalogs.get("example.test")?.items[1]?.label?.categories[0]?.name, "ALPHA");
});

test("errors are ConfigErrors naming the key", () => {
  assert.throws(
    () => readCatalogSection(section("domain: c.t\nsecret: s\n"), { registry }),
    (e: unknown) => e instanceof ConfigError && /components\.catalog\.served/.test(e.message),
  );
  assert.throws(
    () => readCatalogSection(section("domain: c.t\nsecret: s\nserved: [a.t]\nsurved: [b]\n"), { registry }),
    (e: unknown) => e instanceof ConfigError && /surved: unknown setting/.test(e.message),
  );
  assert.throws(
    () =>
      readCatalogSection(
        section(
          "domain: c.t\nsecret: s\nserved: [a.t]\ncatalogs:\n  a.t:\n    items:\n      - label: { classification: COSMIC }\n",
        ),
        { registry, policy: DEMO_OID },
      ),
    (e: unknown) =>
      e instanceof ConfigError &&
      /components\.catalog\.catalogs\.a\.t\.items\[0\]\.label\.classification/.test(e.message),
  );
});

test("catalog items take the one label syntax: TagSet/NAME for a shared category, { file }, and the hint", () => {
  const natoRegistry = new PolicyRegistry();
  const nato = natoRegistry.loadFileSync(
    resolve(
      dirname(fileURLToPath(import.meta.url)),
      "../../../policy/test/fixtures/shared-category-policy.xml",
    ),
  );
  const dir = mkdtempSync(join(tmpdir(), "cordon-catalog-"));
  try {
    const fileLabel = labelFromSpec({ classification: "RESTRICTED", categories: ["EU"] }, "l", {
      registry: natoRegistry,
      policy: nato.id,
    });
    writeFileSync(join(dir, "eu.der"), encodeEssLabel(fileLabel));
    const labels = {
      registry: natoRegistry,
      policy: nato.id,
      readFile: (p: string) => readFileSync(join(dir, p)),
    };
    const settings = readCatalogSection(
      section(`domain: c.t
secret: s
served: [a.t]
catalogs:
  a.t:
    items:
      - { selector: "SECRET|NATO", label: { classification: SECRET, categories: [Releasable To/NATO, Membership/NATO] } }
      - { selector: "RESTRICTED|EU", label: { file: eu.der } }`),
      labels,
    );
    const items = settings.catalogs.get("a.t")!.items;
    assert.deepEqual(
      items[0]?.label?.categories.map((c) => `${c.tagSet.name}/${c.name}`),
      ["Releasable To/NATO", "Membership/NATO"],
    );
    assert.equal(items[1]?.label?.classification.name, "RESTRICTED");
    assert.deepEqual(
      items[1]?.label?.categories.map((c) => c.name),
      ["EU"],
    );
    assert.throws(
      () =>
        readCatalogSection(
          section(
            "domain: c.t\nsecret: s\nserved: [a.t]\ncatalogs:\n  a.t:\n    items:\n      - label: { classification: SECRET, categories: [NATO] }\n",
          ),
          labels,
        ),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.endsWith(
          'components.catalog.catalogs.a.t.items[0].label.categories[0]: category "NATO" is in 2 tag sets of policy "Shared Category Test": write "Releasable To/NATO" or "Membership/NATO"',
        ),
    );
    assert.throws(
      () =>
        readCatalogSection(
          section(
            "domain: c.t\nsecret: s\nserved: [a.t]\ncatalogs:\n  a.t:\n    items:\n      - label: { file: gone.xml }\n",
          ),
          labels,
        ),
      (e: unknown) =>
        e instanceof ConfigError &&
        /items\[0\]\.label\.file: cannot read gone\.xml \(ENOENT\)/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a store catalog record cannot make the service read a file", () => {
  assert.throws(
    () => parseCatalogSpec({ items: [{ label: { file: "/etc/passwd" } }] }, registry, "store"),
    (e: unknown) =>
      e instanceof CatalogSpecError &&
      /store\.items\[0\]\.label\.file: files are not read here/.test(e.message),
  );
});

test("cacheBytes: the catalog cache's byte budget (a size); cacheSize, a count, is refused", () => {
  const base = "domain: c.t\nsecret: s\nserved: [a.t]\n";
  assert.equal(readCatalogSection(section(base), { registry }).cacheMaxBytes, 32 * 1024 * 1024);
  assert.equal(
    readCatalogSection(section(`${base}cacheBytes: 4 MiB\n`), { registry }).cacheMaxBytes,
    4 << 20,
  );
  assert.equal(readCatalogSection(section(`${base}cacheBytes: 65536\n`), { registry }).cacheMaxBytes, 65536);
  assert.throws(
    () => readCatalogSection(section(`${base}cacheBytes: lots\n`), { registry }),
    (e: unknown) => e instanceof ConfigError && /cacheBytes: expected a size in bytes/.test(e.message),
  );
  assert.throws(
    () => readCatalogSection(section(`${base}cacheSize: 10000\n`), { registry }),
    (e: unknown) => e instanceof ConfigError && /cacheSize: replaced by cacheBytes/.test(e.message),
  );
});
