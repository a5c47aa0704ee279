import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPolicy } from "../../src/spif/load.js";
import { InvalidPolicyError, MalformedEncodingError } from "../../src/errors.js";
import { corpusText } from "../corpus.js";

test("SPIFs in no namespace, the default namespace and a prefixed one load", () => {
  assert.equal(loadPolicy(corpusText("food-policy.xml")).name, "Food");
  assert.equal(loadPolicy(corpusText("tlp.xml")).id, "1.2.826.0.1.6726289.0.2");
  const nato = loadPolicy(corpusText("nato-4774-policy.xml"));
  assert.equal(nato.name, "NATO");
  assert.equal(
    nato.tagSetByName.get("Releasable To")?.byTypeLacv.get("enumeratedPermissive")?.get(4)?.name,
    "AFG",
  );
});

test("inconsistent and malformed policies are rejected with typed errors", () => {
  assert.throws(
    () => loadPolicy(corpusText("food-policy-borked.xml")),
    (e: unknown) =>
      e instanceof InvalidPolicyError && e.message === "Duplicate excluded classification in category",
  );
  const dup = corpusText("food-policy.xml").replace(
    'name="Commodity" color="white" lacv="51"',
    'name="Commodity" color="white" lacv="50"',
  );
  assert.throws(
    () => loadPolicy(dup),
    (e: unknown) => e instanceof InvalidPolicyError && e.message === "Duplicate classification Commodity",
  );
  assert.throws(
    () => loadPolicy(corpusText("food-policy.xml").replace("</SPIF>", "</SPFI>")),
    MalformedEncodingError,
  );
  assert.throws(
    () => loadPolicy("<notaspif/>"),
    (e: unknown) => e instanceof InvalidPolicyError && e.message === "Not a spif",
  );
});
