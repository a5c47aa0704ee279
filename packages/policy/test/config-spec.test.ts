import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { clearanceFromSpec, labelFromSpec, SpecError } from "../src/config-spec.js";
import { PolicyRegistry } from "../src/registry.js";
import { encodeEssLabel } from "../src/formats/ess.js";
import { encodeBerClearance } from "../src/formats/clearance-ber.js";
import { acdf } from "../src/acdf.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = resolve(here, "../../test/fixtures/shared-category-policy.xml");
const registry = new PolicyRegistry();
const policy = registry.loadFileSync(fixture);
const options = { registry, policy: policy.id };
const names = (l: { categories: readonly { tagSet: { name: string }; name: string }[] }) =>
  l.categories.map((c) => `${c.tagSet.name}/${c.name}`);
const fails = (fn: () => unknown, key: string, reason: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpecError, String(e));
    assert.equal(e.key, key);
    assert.match(e.reason, reason);
    assert.equal(e.message, `${key}: ${e.reason}`);
    return true;
  });

describe("labels and clearances written in configuration", () => {
  test("a category two tag sets share is written TagSet/NAME; the bare name says which to choose", () => {
    const label = labelFromSpec(
      { classification: "SECRET", categories: ["Membership/NATO", "Releasable To/NATO", "GBR"] },
      "labels.X",
      options,
    );
    assert.deepEqual(names(label), ["Releasable To/NATO", "Releasable To/GBR", "Membership/NATO"]);
    fails(
      () => labelFromSpec({ classification: "SECRET", categories: ["EU", "NATO"] }, "labels.X", options),
      "labels.X.categories[1]",
      /^category "NATO" is in 2 tag sets of policy "Shared Category Test": write "Releasable To\/NATO" or "Membership\/NATO"$/,
    );
    fails(
      () => clearanceFromSpec({ classifications: ["SECRET"], categories: ["NATO"] }, "c", options),
      "c.categories[0]",
      /write "Releasable To\/NATO" or "Membership\/NATO"/,
    );
    const clearance = clearanceFromSpec(
      { classifications: ["UNCLASSIFIED", "SECRET"], categories: ["Membership/NATO", "Releasable To/GBR"] },
      "c",
      options,
    );
    assert.equal(acdf(label, clearance).granted, true);
  });

  test("{ file }, { encoding, data } and inline data read the same label or clearance", () => {
    const label = labelFromSpec({ classification: "RESTRICTED", categories: ["EU"] }, "l", options);
    const der = Buffer.from(encodeEssLabel(label));
    const files = new Map<string, Uint8Array | string>([
      ["l.der", der],
      ["l.b64", der.toString("base64")],
    ]);
    const readFile = (p: string) => {
      const data = files.get(p);
      if (data === undefined) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      return data;
    };
    for (const spec of [
      { file: "l.der" },
      { file: "l.b64" },
      { encoding: "ber", data: der.toString("base64") },
      der.toString("base64"),
    ]) {
      const read = labelFromSpec(spec, "l", { ...options, readFile });
      assert.deepEqual(names(read), ["Membership/EU"], JSON.stringify(spec));
      assert.equal(read.classification.name, "RESTRICTED");
    }
    fails(() => labelFromSpec({ file: "missing.xml" }, "l", { ...options, readFile }), "l.file", /ENOENT/);
    fails(() => labelFromSpec({ file: "l.der" }, "l", options), "l.file", /files are not read here/);
    const clearance = clearanceFromSpec({ classifications: ["SECRET"], categories: ["EU"] }, "c", options);
    const ber = Buffer.from(encodeBerClearance(clearance)).toString("base64");
    assert.deepEqual(names(clearanceFromSpec(ber, "c", options)), ["Membership/EU"]);
  });

  test("errors name the key and what was expected", () => {
    fails(() => labelFromSpec("SECRET", "k", options), "k", /^the inline data is not a label/);
    fails(
      () => labelFromSpec(["SECRET"], "k", options),
      "k",
      /expected a label: \{ classification, categories \}/,
    );
    fails(() => labelFromSpec({ classification: "SECRET" }, "k", { registry }), "k.policy", /required/);
    fails(
      () => labelFromSpec({ policy: "Other", classification: "SECRET" }, "k", options),
      "k.policy",
      /no loaded policy named or numbered "Other"/,
    );
    fails(
      () => labelFromSpec({ classification: "TOP SECRET" }, "k", options),
      "k.classification",
      /no classification "TOP SECRET" \(it has: UNCLASSIFIED, RESTRICTED, SECRET\)/,
    );
    fails(() => labelFromSpec({ categories: [] }, "k", options), "k.classification", /required/);
    fails(
      () => labelFromSpec({ classification: "SECRET", categories: ["USA"] }, "k", options),
      "k.categories[0]",
      /no category "USA"/,
    );
    fails(
      () => labelFromSpec({ classification: "SECRET", categories: ["Membership/GBR"] }, "k", options),
      "k.categories[0]",
      /tag set "Membership" of policy "Shared Category Test" has no category "GBR"/,
    );
    fails(() => labelFromSpec({ classification: "SECRET", colour: 1 }, "k", options), "k.colour", /unknown/);
    fails(
      () => clearanceFromSpec({ classification: "SECRET" }, "k", options),
      "k.classification",
      /expected one of: policy, classifications, categories/,
    );
    assert.equal(readFileSync(fixture, "utf8").includes("NATO"), true);
  });
});
