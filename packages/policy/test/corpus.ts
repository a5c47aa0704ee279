// Test helper: the conformance corpus directory and a registry loader.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry } from "../src/registry.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const SHARED = process.env["CORDON_SHARED_DIR"] ?? resolve(repoRoot, "../shared");
export const CORPUS = resolve(SHARED, "conformance/spiffing");

export const corpusFile = (name: string): Buffer => readFileSync(resolve(CORPUS, name));
export const corpusText = (name: string): string => readFileSync(resolve(CORPUS, name), "utf8");

export function registryOf(...spifs: string[]): PolicyRegistry {
  const r = new PolicyRegistry();
  for (const s of spifs) r.loadString(corpusText(s));
  return r;
}
