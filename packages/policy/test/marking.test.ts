import { test } from "node:test";
import assert from "node:assert/strict";
import { clearanceMarking, labelMarking, markingColours, selectMarking } from "../src/marking.js";
import { parseClearance, parseLabelData } from "../src/formats/detect.js";
import { corpusFile, registryOf } from "./corpus.js";

test("label markings follow policy order and languages", () => {
  const r = registryOf("nato-4774-policy.xml");
  const l = parseLabelData(corpusFile("nato-4774-17-1.xml"), r);
  assert.equal(labelMarking(l), "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT");
  assert.equal(
    labelMarking(l, "fr-CA"),
    "NATO SANS CLASSIFICATION Communicable a ISAF, KFOR, RESOLUTE SUPPORT",
  );
  assert.equal(
    labelMarking(parseLabelData(corpusFile("nato-4774-extra-1.xml"), r), "fr"),
    "NATO TRES SECRET",
  );
});

test("clearance marking lists classes by hierarchy", () => {
  const r = registryOf("food-policy.xml");
  const c = parseClearance(corpusFile("food-clearance-savoury.xml"), r);
  assert.equal(
    clearanceMarking(c),
    "[ {Freely Available|Commodity|Luxury} Crunchy Salty/Meaty Contains Lactose Not Vegan British Flag ]",
  );
});

test("marking lookup falls back from region to primary tag to untagged", () => {
  const m = new Map([
    ["", { prefix: "u", suffix: "", sep: "", entries: [] }],
    ["fr", { prefix: "f", suffix: "", sep: "", entries: [] }],
  ]);
  assert.equal(selectMarking(m, "fr_BE")?.prefix, "f");
  assert.equal(selectMarking(m, "de")?.prefix, "u");
});

test("colours come from the classification colour with a contrasting foreground", () => {
  const r = registryOf("food-policy.xml");
  const p = r.require("1.2.826.0.1.6726289.0.0");
  assert.deepEqual(markingColours(p.classificationByLacv.get(52)!), { fgcolor: "white", bgcolor: "red" });
  assert.deepEqual(markingColours(p.classificationByLacv.get(50)!), { fgcolor: "black", bgcolor: "#DFDFDF" });
});
