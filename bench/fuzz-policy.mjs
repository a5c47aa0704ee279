// Fuzzes the @cordon/policy BER and XML decoders with ≥100,000 random and mutated inputs.
// Every input must yield a value or a typed PolicyError. Last line: one JSON object.
import { readFileSync, readdirSync } from "node:fs";
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry } from "@cordon/policy";
import { fuzzOne, mutate, prng, randomInput } from "@cordon/policy/fuzz";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const corpus = resolve(root, "test/conformance");
const registry = new PolicyRegistry();
for (const f of ["harbour-policy.xml", "tlp-extended-policy.xml", "tlp-policy.xml"])
  registry.loadString(readFileSync(resolve(corpus, f), "utf8"));
const seeds = readdirSync(corpus)
  .filter((f) => /\.(ber|xml)$/.test(f) && !/-policy\.xml$|^bad-|^tests\.xml$/.test(f))
  .map((f) => readFileSync(resolve(corpus, f)));
const iterations = Number(process.argv[2] ?? 100000);
const seed = Number(process.argv[3] ?? 1);
const rnd = prng(seed);
const tally = { values: 0, typedErrors: 0 };
const t0 = performance.now();
let crashes = 0;
let firstCrash;
for (let i = 0; i < iterations; i++) {
  const input = i % 4 === 0 ? randomInput(rnd, 512) : mutate(seeds[i % seeds.length], rnd);
  try {
    fuzzOne(input, registry, tally);
  } catch (e) {
    crashes++;
    firstCrash ??= { input: Buffer.from(input).toString("base64"), error: String(e) };
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    iterations,
    seed,
    decodes: tally.values + tally.typedErrors,
    values: tally.values,
    typedErrors: tally.typedErrors,
    crashes,
    firstCrash,
    seconds: Math.round(seconds * 100) / 100,
    heapMiB: Math.round(process.memoryUsage().heapUsed / 1048576),
  }),
);
process.exitCode = crashes === 0 ? 0 : 1;
