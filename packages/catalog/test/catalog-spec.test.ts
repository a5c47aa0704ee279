import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCatalogSpec, parseCatalogJson } from "../src/catalog-spec.js";
import { CatalogSpecError } from "../src/errors.js";
import { demoRegistry, rawLabel, DEMO_CATALOG } from "./fixtures.js";

const registry = demoRegistry();

test("parses a catalog with named labels", () => {
  const spec = parseCatalogSpec(DEMO_CATALOG, registry);
  assert.equal(spec.items.length, 4);
  assert.equal(spec.items[2]?.label?.categories[0]?.name, "ALPHA");
  assert.equal(spec.items[3]?.default, true);
  assert.equal(spec.restrict, true);
});

test("labels may be given as store raw values, by OID, or with TagSet/Name", () => {
  const [raw, byOid] = parseCatalogSpec(
    {
      items: [
        { label: rawLabel("SECRET", ["BRAVO"]) },
        {
          label: {
            policy: "1.3.6.1.4.1.99999.1.1",
            classification: "SECRET",
            categories: ["Releasability/GBR"],
          },
        },
      ],
    },
    registry,
  ).items;
  assert.equal(raw?.label?.classification.name, "SECRET");
  assert.equal(byOid?.label?.categories[0]?.name, "GBR");
});

test("errors name the place and the problem", () => {
  const cases: [unknown, RegExp][] = [
    [
      { items: [{ label: { policy: "Nope", classification: "SECRET" } }] },
      /catalog\.items\[0\]\.label\.policy/,
    ],
    [
      { items: [{ label: { policy: "Cordon Demo", classification: "COSMIC" } }] },
      /no classification "COSMIC"/,
    ],
    [
      { items: [{ label: { policy: "Cordon Demo", classification: "SECRET", categories: ["ZULU"] } }] },
      /no category "ZULU"/,
    ],
    [
      {
        items: [
          { default: true, selector: "a" },
          { default: true, selector: "b" },
        ],
      },
      /at most one item/,
    ],
    [{ items: [], colour: "red" }, /catalog\.colour: unknown key/],
    [
      { items: [{ label: { encoding: "xml", data: "<nope/>" } }] },
      /the data is not a label of a loaded policy/,
    ],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseCatalogSpec(value, registry),
      (e: unknown) =>
        e instanceof CatalogSpecError && message.test(e.message) && e.code === "CORDON_CATALOG_SPEC_INVALID",
    );
  }
  assert.throws(() => parseCatalogJson("{", registry, "store"), /store: not valid JSON/);
});
