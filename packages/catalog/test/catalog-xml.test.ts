import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseClearance,
  parseSecurityLabelElement,
  PolicyError,
  securityLabelForms,
  sameLabel,
} from "@cordon/policy";
import {
  parseElement,
  NS_SEC_LABEL_CATALOG,
  NS_SEC_LABEL_CATALOG_0,
  NS_SEC_LABEL_CATALOG_1,
} from "@cordon/component";
import { buildCatalog, clearanceGate } from "../src/catalog.js";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import { catalogElement } from "../src/catalog-xml.js";
import { clearance, demoRegistry, DEMO_CATALOG } from "./fixtures.js";

const registry = demoRegistry();
const catalog = buildCatalog({
  to: "example.test",
  spec: parseCatalogSpec(DEMO_CATALOG, registry),
  gates: [clearanceGate(parseClearance(clearance("SECRET").data, registry))],
});

test("catalog:2 carries to, name, desc, id, size, restrict and labelled items, the default first", () => {
  const el = parseElement(catalogElement(catalog).toString());
  assert.equal(el.attrs.xmlns, NS_SEC_LABEL_CATALOG);
  assert.deepEqual(
    [el.attrs.to, el.attrs.name, el.attrs.desc, el.attrs.id, el.attrs.size, el.attrs.restrict],
    ["example.test", "Demo", "Cordon demo labels", catalog.id, "3", "true"],
  );
  const items = el.getChildren("item");
  assert.deepEqual(
    items.map((i) => [i.attrs.selector, i.attrs.default]),
    [
      ["UNCLASSIFIED", "true"],
      ["SECRET", undefined],
      ["CONFIDENTIAL", undefined],
    ],
  );
  const first = items[0]?.getChild("securitylabel", "urn:xmpp:sec-label:0");
  assert.ok(first);
  const parsed = parseSecurityLabelElement(first.toString());
  assert.equal(parsed.displayMarking?.text, "UNCLASSIFIED");
  assert.equal(parsed.displayMarking?.bgcolor, "green");
  const decoded = securityLabelForms(parsed, registry);
  const form = decoded.kind === "forms" ? decoded.forms[0] : undefined;
  assert.ok(
    form &&
      !(form instanceof PolicyError) &&
      catalog.items[0]?.label &&
      sameLabel(form, catalog.items[0].label),
  );
});

test("catalog:1 uses items; catalog:0 lists securitylabels with selector attributes", () => {
  assert.equal(catalogElement(catalog, NS_SEC_LABEL_CATALOG_1).getChildren("item").length, 3);
  const old = catalogElement(catalog, NS_SEC_LABEL_CATALOG_0);
  const labels = old.getChildren("securitylabel", "urn:xmpp:sec-label:0");
  assert.deepEqual(
    labels.map((l) => [l.attrs.selector, l.attrs.default]),
    [
      ["UNCLASSIFIED", "true"],
      ["SECRET", undefined],
      ["CONFIDENTIAL", undefined],
    ],
  );
});
