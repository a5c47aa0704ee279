// The error catalog (as fastify's test/internals/errors.test.js does): docs/errors.md lists exactly
// the CORDON_* codes the sources use, no two classes share a code, and every error class extends
// CordonError.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CordonError } from "../src/index.js";
import { codeLiterals, errorClasses, sourceFiles } from "./source-scan.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const files = sourceFiles(root);
const sourceCodes = codeLiterals(files);
const classes = errorClasses(files);

/** The codes docs/errors.md lists: the first cell of a table row, `CORDON_…` in backticks. */
function documentedCodes(): string[] {
  const text = readFileSync(join(root, "docs", "errors.md"), "utf8");
  return [...text.matchAll(/^\|\s*`(CORDON_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
}

test("the scan finds the codes (sanity: the sources were read)", () => {
  assert.ok(files.length > 50, `only ${files.length} source files found under ${root}/packages`);
  assert.ok(sourceCodes.has("CORDON_POLICY_UNKNOWN_CLASSIFICATION"));
  assert.ok(sourceCodes.has("CORDON_ACDF_GRANTED"));
  assert.ok(!sourceCodes.has("CORDON_ADMIN_TOKEN"), "an environment variable is not a code");
});

test("every code in the sources is in docs/errors.md", () => {
  const documented = new Set(documentedCodes());
  const missing = [...sourceCodes].filter(([code]) => !documented.has(code));
  assert.deepEqual(
    missing.map(([code, where]) => `${code} (${where.join(", ")})`),
    [],
    "add these codes to docs/errors.md: meaning, who raises it, what an operator does",
  );
});

test("docs/errors.md lists no code that no longer exists, and each code once", () => {
  const documented = documentedCodes();
  assert.deepEqual(
    documented.filter((code) => !sourceCodes.has(code)),
    [],
    "docs/errors.md lists codes that no source uses any more",
  );
  assert.deepEqual(
    documented.filter((code, i) => documented.indexOf(code) !== i),
    [],
    "docs/errors.md lists these codes twice",
  );
});

test("no two error classes share a code", () => {
  const byCode = new Map<string, string[]>();
  for (const c of classes) {
    if (c.code) byCode.set(c.code, [...(byCode.get(c.code) ?? []), `${c.name} (${c.file})`]);
  }
  assert.deepEqual(
    [...byCode].filter(([, owners]) => owners.length > 1),
    [],
    "one class per condition, one code per class",
  );
});

test("every error class in the sources extends CordonError (only CordonError extends Error)", () => {
  const baseOf = new Map(classes.map((c) => [c.name, c.base]));
  const builtinErrors = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "AggregateError"]);
  const strays: string[] = [];
  for (const c of classes) {
    if (c.name === "CordonError") continue;
    let base: string | undefined = c.base;
    const seen = new Set<string>();
    while (base !== undefined && base !== "CordonError" && !builtinErrors.has(base) && !seen.has(base)) {
      seen.add(base);
      base = baseOf.get(base);
    }
    if (base !== undefined && builtinErrors.has(base)) strays.push(`${c.name} (${c.file})`);
    if (c.code && base !== "CordonError") strays.push(`${c.name} (${c.file}) has a code but not CordonError`);
  }
  assert.deepEqual(strays, []);
});

test("every error class a package exports is a CordonError subclass", async () => {
  let checked = 0;
  for (const pkg of readdirSync(join(root, "packages"))) {
    const entry = join(root, "packages", pkg, "dist", "src", "index.js");
    if (!existsSync(entry)) continue;
    const exports = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (value === CordonError) continue;
      if (typeof value !== "function" || !((value as { prototype?: unknown }).prototype instanceof Error))
        continue;
      checked++;
      assert.ok(
        (value as { prototype: unknown }).prototype instanceof CordonError,
        `@cordon/${pkg} exports ${name}, an Error that does not extend CordonError`,
      );
    }
  }
  assert.ok(checked > 30, `only ${checked} exported error classes found`);
});
