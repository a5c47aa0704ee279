import { test } from "node:test";
import assert from "node:assert/strict";
import { loadPolicy } from "../../src/spif/load.js";
import { InvalidPolicyError, MalformedEncodingError } from "../../src/errors.js";
import { corpusText, TLP_EXTENDED } from "../corpus.js";

test("SPIFs in no namespace, the default namespace and a prefixed one load", () => {
  const harbour = loadPolicy(corpusText("harbour-policy.xml"));
  assert.equal(harbour.name, "Harbour");
  assert.equal(harbour.classificationByLacv.get(3)?.name, "OFFICERS", 'lacv="03" is 3');
  assert.equal(harbour.tagSetByName.get("Cargo")?.byTypeLacv.get("restrictive")?.get(2)?.name, "TOXIC");
  assert.equal(loadPolicy(corpusText("tlp-extended-policy.xml")).id, TLP_EXTENDED);
  const tlp = loadPolicy(corpusText("tlp-policy.xml"));
  assert.equal(tlp.name, "TLP");
  assert.equal(tlp.tagSetByName.get("Audience")?.byTypeLacv.get("permissive")?.get(1)?.name, "CSIRTS");
});

test("inconsistent and malformed policies are rejected with typed errors", () => {
  assert.throws(
    () => loadPolicy(corpusText("bad-duplicate-excluded-class.xml")),
    (e: unknown) =>
      e instanceof InvalidPolicyError && e.message === "Duplicate excluded classification in category",
  );
  assert.throws(
    () => loadPolicy(corpusText("bad-duplicate-classification.xml")),
    (e: unknown) => e instanceof InvalidPolicyError && e.message === "Duplicate classification SEALED",
  );
  const dupName = corpusText("harbour-policy.xml").replace('name="CAPTAIN"', 'name="CREW"');
  assert.throws(
    () => loadPolicy(dupName),
    (e: unknown) => e instanceof InvalidPolicyError && e.message === "Duplicate classification name CREW",
  );
  assert.throws(() => loadPolicy(corpusText("bad-malformed.xml")), MalformedEncodingError);
  assert.throws(
    () => loadPolicy(corpusText("harbour-policy.xml").replace("</SPIF>", "</SPFI>")),
    MalformedEncodingError,
  );
  assert.throws(
    () => loadPolicy("<notaspif/>"),
    (e: unknown) => e instanceof InvalidPolicyError && e.message === "Not a spif",
  );
});
