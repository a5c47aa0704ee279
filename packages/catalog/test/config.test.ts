import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "@cordon/component";
import { readCatalogSection } from "../src/config.js";
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
    registry,
    DEMO_OID,
  );
  assert.deepEqual(settings.served, ["example.test"]);
  assert.deepEqual(settings.muc, ["rooms.example.test"]);
  assert.equal(settings.remoteRequests, false);
  assert.equal(settings.catalogs.get("example.test")?.items.length, 2);
  assert.equal(settings.catalogs.get("example.test")?.items[1]?.label?.categories[0]?.name, "ALPHA");
});

test("errors are ConfigErrors naming the key", () => {
  assert.throws(
    () => readCatalogSection(section("domain: c.t\nsecret: s\n"), registry),
    (e: unknown) => e instanceof ConfigError && /components\.catalog\.served/.test(e.message),
  );
  assert.throws(
    () => readCatalogSection(section("domain: c.t\nsecret: s\nserved: [a.t]\nsurved: [b]\n"), registry),
    (e: unknown) => e instanceof ConfigError && /surved: unknown setting/.test(e.message),
  );
  assert.throws(
    () =>
      readCatalogSection(
        section(
          "domain: c.t\nsecret: s\nserved: [a.t]\ncatalogs:\n  a.t:\n    items:\n      - label: { classification: COSMIC }\n",
        ),
        registry,
        DEMO_OID,
      ),
    (e: unknown) =>
      e instanceof ConfigError &&
      /components\.catalog\.catalogs\.a\.t\.items\[0\]\.label\.classification/.test(e.message),
  );
});
