// ESS label parse+validate per second (issue 19 goal 4: ≥ 500,000/s), bench/acdf.mjs's figure:
// the same five harbour labels, DER-encoded and sent as base64, parsed by parseLabelData and
// checked by isValidLabel, no cache. Split by stage: base64 → label (parseLabelData), bytes →
// label (decodeEssLabel), validation (isValidLabel on a parsed label).
//
//   node bench/ess-parse.mjs [--baseline DIR] [--rounds N] [--ms MS]
//
// With --baseline (a built checkout of an older commit) both code bases run in this one process,
// rounds alternating (order flipped each round), so the machine's load falls on both alike; the
// median round of each counts. Figures are CPU time of this thread (process.cpuUsage).
//
// For a load-independent figure, count instructions:
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node bench/ess-parse.mjs --count N --tree TREE
// parses 50,000 labels to warm up, then N more; (count at N) − (count at 0), divided by N, is the
// count per parse+validate. Last line of every mode: one JSON object.
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    rounds: { type: "string", default: "9" },
    ms: { type: "string", default: "400" },
    count: { type: "string" },
    tree: { type: "string" },
  },
});
const corpus = resolve(root, "test/conformance");
const FILES = [
  "harbour-label-crew-cargo.xml",
  "harbour-label-berths.xml",
  "harbour-label-customs.xml",
  "harbour-label-crew-cargo.ber",
  "harbour-label-all-kinds.ber",
];

async function load(tree) {
  const policy = await import(pathToFileURL(resolve(tree, "packages/policy/dist/src/index.js")).href);
  const registry = new policy.PolicyRegistry();
  registry.loadString(readFileSync(resolve(corpus, "harbour-policy.xml"), "utf8"));
  const labels = FILES.map((f) => policy.parseLabelData(readFileSync(resolve(corpus, f)), registry));
  const der = labels.map((l) => policy.encodeEssLabel(l));
  const b64 = der.map((d) => Buffer.from(d).toString("base64"));
  let sink = 0;
  const batches = {
    // The figure: base64 text → label → validity.
    parseValidate: () => {
      for (let i = 0; i < 1000; i++)
        if (policy.isValidLabel(policy.parseLabelData(b64[i % b64.length], registry))) sink++;
    },
    fromBase64: () => {
      for (let i = 0; i < 1000; i++) if (policy.parseLabelData(b64[i % b64.length], registry)) sink++;
    },
    fromBytes: () => {
      for (let i = 0; i < 1000; i++) if (policy.decodeEssLabel(der[i % der.length], registry)) sink++;
    },
    validate: () => {
      for (let i = 0; i < 1000; i++) if (policy.isValidLabel(labels[i % labels.length])) sink++;
    },
  };
  return { batches, sink: () => sink, bytes: der.map((d) => d.length) };
}

/** CPU µs per item of one call of `fn` (1,000 items), repeated for `ms` of CPU. */
function cpuPerItem(fn, ms) {
  let n = 0;
  const t0 = process.cpuUsage();
  let used = 0;
  while (used < ms * 1000) {
    fn();
    n += 1000;
    const t = process.cpuUsage(t0);
    used = t.user + t.system;
  }
  return used / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (args.count !== undefined) {
  // Instruction-count mode (under callgrind): warm up, then N parse+validate.
  const t = await load(resolve(args.tree ?? root));
  for (let i = 0; i < 50; i++) t.batches.parseValidate();
  const n = Number(args.count);
  for (let i = 0; i < n / 1000; i++) t.batches.parseValidate();
  console.log(JSON.stringify({ tree: resolve(args.tree ?? root), count: n, valid: t.sink() > 0 }));
} else {
  const MS = Number(args.ms);
  const ROUNDS = Number(args.rounds);
  const trees = [{ name: "after", dir: root }];
  if (args.baseline) trees.unshift({ name: "before", dir: resolve(args.baseline) });
  const runs = [];
  for (const t of trees) runs.push({ ...t, ...(await load(t.dir)), samples: {} });
  const STAGES = ["parseValidate", "fromBase64", "fromBytes", "validate"];
  for (const r of runs) for (const st of STAGES) cpuPerItem(r.batches[st], 300);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...runs].reverse() : runs;
    for (const r of order)
      for (const st of STAGES) (r.samples[st] ??= []).push(cpuPerItem(r.batches[st], MS));
  }
  const { loadavg } = await import("node:os");
  const result = {
    rounds: ROUNDS,
    msPerSample: MS,
    node: process.version,
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    labelBytes: runs[0].bytes,
  };
  for (const r of runs) {
    const ns = {};
    for (const st of STAGES) ns[st] = Math.round(median(r.samples[st]) * 1000);
    result[r.name] = {
      essParseValidatePerSecond: Math.round(1e6 / median(r.samples.parseValidate)),
      nanosecondsPerLabel: ns,
    };
    if (r.sink() === 0) throw new Error("nothing parsed");
  }
  for (const r of runs) {
    const x = result[r.name];
    console.log(
      `${r.name.padEnd(6)} ESS parse+validate ${x.essParseValidatePerSecond.toLocaleString("en")}/s; ns per label: ` +
        STAGES.map((st) => `${st} ${x.nanosecondsPerLabel[st]}`).join(", "),
    );
  }
  console.log(JSON.stringify(result));
}
