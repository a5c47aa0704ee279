import { test } from "node:test";
import assert from "node:assert/strict";
import { clearanceMarking, labelMarking, markingColours, selectMarking } from "../src/marking.js";
import { parseClearance, parseLabelData } from "../src/formats/detect.js";
import { corpusFile, HARBOUR, registryOf, TLP_EXTENDED } from "./corpus.js";

test("label markings follow policy order and languages", () => {
  const r = registryOf("harbour-policy.xml");
  const l = parseLabelData(corpusFile("harbour-label-crew-cargo.xml"), r);
  assert.equal(labelMarking(l), "| Harbour CREW ONLY HAZ:TOXIC+FLAMMABLE BERTH SOUTH (FRAGILE keep cold) |");
  const fr = "« Port ÉQUIPAGE HAZ:TOXIC+INFLAMMABLE QUAI SOUTH (FRAGILE au frais) »";
  assert.equal(labelMarking(l, "fr"), fr);
  assert.equal(labelMarking(l, "fr-CA"), fr);
  assert.equal(labelMarking(l, "de"), labelMarking(l));
  assert.equal(
    labelMarking(parseLabelData(corpusFile("harbour-label-captain.xml"), r)),
    "| MASTER CAPTAIN BERTH EAST DRY |",
  );
  assert.equal(
    labelMarking(parseLabelData(corpusFile("harbour-label-drill.xml"), r)),
    "| Harbour (EXERCISE LOGGED) |",
  );
});

test("clearance marking lists classes by hierarchy", () => {
  const r = registryOf("harbour-policy.xml");
  const c = parseClearance(corpusFile("harbour-clearance-officer.xml"), r);
  assert.equal(
    clearanceMarking(c),
    "| {CREW|OFFICERS} HAZ:TOXIC+FLAMMABLE BONDED BERTH NORTH,SOUTH WET CUSTOMS/QUARANTINE |",
  );
  assert.equal(
    clearanceMarking(parseClearance(corpusFile("harbour-clearance-empty.xml"), r)),
    "| {unclassified (auto)} |",
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
  const r = registryOf("harbour-policy.xml", "tlp-extended-policy.xml");
  const p = r.require(HARBOUR);
  assert.deepEqual(markingColours(p.classificationByLacv.get(4)!), { fgcolor: "white", bgcolor: "red" });
  assert.deepEqual(markingColours(p.classificationByLacv.get(1)!), { fgcolor: "black", bgcolor: "white" });
  assert.deepEqual(markingColours(r.require(TLP_EXTENDED).classificationByLacv.get(12)!), {
    fgcolor: "black",
    bgcolor: "#FFC000",
  });
});
