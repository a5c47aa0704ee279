import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseClearance } from "@cordon/policy";
import { buildCatalog, roomCatalog, clearanceGate, emptyCatalog } from "../src/catalog.js";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import { clearance, demoRegistry, label, DEMO_CATALOG } from "./fixtures.js";

const registry = demoRegistry();
const spec = parseCatalogSpec(DEMO_CATALOG, registry);
const gateOf = (upTo: string, cats: string[] = []) =>
  clearanceGate(parseClearance(clearance(upTo, cats).data, registry));

describe("buildCatalog", () => {
  test("offers only labels the requester is cleared for, default first with a real label", () => {
    const catalog = buildCatalog({ to: "example.test", spec, gates: [gateOf("SECRET")] });
    assert.deepEqual(
      catalog.items.map((i) => i.selector),
      ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL"],
    );
    assert.equal(catalog.items[0]?.default, true);
    assert.ok(catalog.items[0]?.label);
    assert.equal(catalog.items.filter((i) => i.default).length, 1);
    assert.equal(catalog.restrict, true);
    assert.equal(catalog.name, "Demo");
    assert.equal(catalog.items[1]?.marking, "SECRET");
    assert.equal(catalog.items[1]?.bgcolor, "red");
  });

  test("a compartment needs the category; every gate must pass", () => {
    const all = buildCatalog({ to: "t", spec, gates: [gateOf("SECRET", ["ALPHA"])] });
    assert.deepEqual(
      all.items.map((i) => i.selector),
      ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "SECRET|ALPHA"],
    );
    const both = buildCatalog({
      to: "t",
      spec,
      gates: [gateOf("SECRET", ["ALPHA"]), gateOf("CONFIDENTIAL")],
    });
    assert.deepEqual(
      both.items.map((i) => i.selector),
      ["UNCLASSIFIED", "CONFIDENTIAL"],
    );
  });

  test("without the configured default, the lowest allowed label becomes the default", () => {
    const noUnclass = parseCatalogSpec({ items: DEMO_CATALOG.items.slice(0, 3) }, registry);
    const catalog = buildCatalog({ to: "t", spec: noUnclass, gates: [gateOf("SECRET", ["ALPHA"])] });
    assert.equal(catalog.items[0]?.selector, "CONFIDENTIAL");
    assert.equal(catalog.items[0]?.default, true);
  });

  test("invalid labels are never offered; duplicates are removed; personal entries are appended", () => {
    const withInvalid = parseCatalogSpec(
      {
        items: [
          ...DEMO_CATALOG.items,
          {
            selector: "bad",
            label: { policy: "Cordon Demo", classification: "UNCLASSIFIED", categories: ["ALPHA"] },
          },
          { selector: "dup", label: { policy: "Cordon Demo", classification: "SECRET" } },
        ],
      },
      registry,
    );
    const personal = [{ selector: "Mine", label: label(registry, "RESTRICTED") }];
    const catalog = buildCatalog({
      to: "t",
      spec: withInvalid,
      personal,
      gates: [gateOf("TOP SECRET", ["ALPHA", "BRAVO"])],
    });
    assert.deepEqual(
      catalog.items.map((i) => i.selector),
      ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "SECRET|ALPHA", "Mine"],
    );
  });

  test("the no-label item is kept only in a non-restrictive catalog and is never the default", () => {
    const open = parseCatalogSpec(
      { restrict: false, items: [{ selector: "none", default: true }, ...DEMO_CATALOG.items.slice(0, 2)] },
      registry,
    );
    const catalog = buildCatalog({ to: "t", spec: open, gates: [gateOf("SECRET")] });
    assert.deepEqual(
      catalog.items.map((i) => [i.selector, i.default, i.label !== undefined]),
      [
        ["CONFIDENTIAL", true, true],
        ["SECRET", false, true],
        ["none", false, false],
      ],
    );
    const closed = buildCatalog({ to: "t", spec: open, gates: [gateOf("SECRET")], restrict: true });
    assert.ok(closed.items.every((i) => i.label));
  });

  test("the id is a content hash: same content same id, any change a new id", () => {
    const a = buildCatalog({ to: "t", spec, gates: [gateOf("SECRET")] });
    const b = buildCatalog({ to: "t", spec, gates: [gateOf("SECRET")] });
    const c = buildCatalog({ to: "t", spec, gates: [gateOf("CONFIDENTIAL")] });
    const d = buildCatalog({ to: "u", spec, gates: [gateOf("SECRET")] });
    assert.equal(a.id, b.id);
    assert.match(a.id, /^[0-9a-f]{64}$/);
    assert.notEqual(a.id, c.id);
    assert.notEqual(a.id, d.id);
  });

  test("a nil clearance gets no labels; the empty catalog is restrictive", () => {
    const none = buildCatalog({ to: "t", spec, gates: [clearanceGate(undefined)] });
    assert.equal(none.items.length, 0);
    const empty = emptyCatalog("t");
    assert.equal(empty.restrict, true);
    assert.equal(empty.items.length, 0);
  });
});

describe("roomCatalog", () => {
  test("within the room clearance, the room default first, the room's restrict", () => {
    const room = {
      clearance: parseClearance(clearance("CONFIDENTIAL").data, registry),
      defaultLabel: label(registry, "CONFIDENTIAL"),
      restrict: false,
    };
    const catalog = roomCatalog({ to: "r@rooms.t", spec, requester: gateOf("SECRET"), room });
    assert.deepEqual(
      catalog.items.map((i) => [i.selector, i.default]),
      [
        ["CONFIDENTIAL", true],
        ["UNCLASSIFIED", false],
      ],
    );
    assert.equal(catalog.restrict, false);
  });

  test("a room with only a label allows that label; the requester must still be cleared", () => {
    const room = { label: label(registry, "SECRET"), restrict: true };
    assert.deepEqual(
      roomCatalog({ to: "r", spec, requester: gateOf("SECRET"), room }).items.map((i) => i.selector),
      ["SECRET"],
    );
    assert.equal(roomCatalog({ to: "r", spec, requester: gateOf("CONFIDENTIAL"), room }).items.length, 0);
  });

  test("a room default label missing from the catalog is added as the default when allowed", () => {
    const room = {
      clearance: parseClearance(clearance("SECRET").data, registry),
      defaultLabel: label(registry, "RESTRICTED"),
      restrict: true,
    };
    const catalog = roomCatalog({ to: "r", spec, requester: gateOf("SECRET"), room });
    assert.equal(catalog.items[0]?.marking, "RESTRICTED");
    assert.equal(catalog.items[0]?.default, true);
  });
});
