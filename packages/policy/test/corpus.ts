// Test helper: the project's conformance corpus (test/conformance, docs/conformance.md §4), a
// registry loader, and the optional extra corpus from Spiffing when one is present beside the
// repository (CORDON_SHARED_DIR, default ../shared): tests of that extra are skipped without it.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry } from "../src/registry.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const CORPUS = resolve(repoRoot, "test/conformance");

export const corpusFile = (name: string): Buffer => readFileSync(resolve(CORPUS, name));
export const corpusText = (name: string): string => readFileSync(resolve(CORPUS, name), "utf8");

export function registryOf(...spifs: string[]): PolicyRegistry {
  const r = new PolicyRegistry();
  for (const s of spifs) r.loadString(corpusText(s));
  return r;
}

/** Spiffing's tests.xml directory when available (an optional extra), else undefined. */
export const EXTRA_CORPUS: string | undefined = ((): string | undefined => {
  const dir = resolve(
    process.env["CORDON_SHARED_DIR"] ?? resolve(repoRoot, "../shared"),
    "conformance/spiffing",
  );
  return existsSync(resolve(dir, "tests.xml")) ? dir : undefined;
})();

export const HARBOUR = "1.3.6.1.4.1.99999.2.1";
export const TLP_EXTENDED = "1.3.6.1.4.1.99999.2.2";
export const TLP = "1.3.6.1.4.1.99999.2.3";
