// ACDF and ESS-parse throughput of @cordon/policy on one core. Last line: one JSON object.
//   acdfPerSecond       ACDF decisions/s with a loaded policy and pre-parsed labels/clearances
//   essParsesPerSecond  ESS labels parsed + validated/s from base64, no cache
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  PolicyRegistry,
  acdf,
  parseLabelData,
  parseClearance,
  isValidLabel,
  encodeEssLabel,
} from "@cordon/policy";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const corpus = resolve(root, "test/conformance");
const registry = new PolicyRegistry();
registry.loadString(readFileSync(resolve(corpus, "harbour-policy.xml"), "utf8"));
const read = (f) => readFileSync(resolve(corpus, f));
const labels = [
  "harbour-label-crew-cargo.xml",
  "harbour-label-berths.xml",
  "harbour-label-customs.xml",
  "harbour-label-crew-cargo.ber",
  "harbour-label-all-kinds.ber",
].map((f) => parseLabelData(read(f), registry));
const clearances = [
  "harbour-clearance-officer.xml",
  "harbour-clearance-deckhand.xml",
  "harbour-clearance-east-dry.xml",
  "harbour-clearance-officer.ber",
].map((f) => parseClearance(read(f), registry));

function measure(fn, ms = 1500) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    n += fn();
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

// Warm up, then measure.
let granted = 0;
const acdfBatch = () => {
  for (let i = 0; i < 10000; i++) if (acdf(labels[i % labels.length], clearances[i & 3]).granted) granted++;
  return 10000;
};
measure(acdfBatch, 300);
const acdfPerSecond = measure(acdfBatch);

const b64 = labels.map((l) => Buffer.from(encodeEssLabel(l)).toString("base64"));
let valid = 0;
const essBatch = () => {
  for (let i = 0; i < 1000; i++) if (isValidLabel(parseLabelData(b64[i % b64.length], registry))) valid++;
  return 1000;
};
measure(essBatch, 300);
const essParsesPerSecond = measure(essBatch);

console.log(
  `acdf: ${Math.round(acdfPerSecond).toLocaleString("en")} decisions/s; ESS parse+validate: ${Math.round(essParsesPerSecond).toLocaleString("en")}/s`,
);
console.log(
  JSON.stringify({
    acdfPerSecond: Math.round(acdfPerSecond),
    essParsesPerSecond: Math.round(essParsesPerSecond),
    node: process.version,
    granted: granted > 0,
    valid: valid > 0,
  }),
);
