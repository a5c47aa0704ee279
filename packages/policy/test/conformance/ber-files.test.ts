import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CORPUS } from "../corpus.js";
import { buildBerFiles } from "./make-ber.js";

test("the committed .ber files of the corpus are what make-ber builds from the XML files", () => {
  const built = buildBerFiles();
  assert.equal(built.size, 8);
  for (const [name, bytes] of built)
    assert.equal(
      Buffer.from(readFileSync(resolve(CORPUS, name))).toString("hex"),
      Buffer.from(bytes).toString("hex"),
      name,
    );
});
