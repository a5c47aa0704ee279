import { test } from "node:test";
import assert from "node:assert/strict";
import { internalized } from "../src/intern.js";

test("internalized returns the same text for every name, prototype-ish ones included (adv12r)", () => {
  for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "", "2.16.840.1.101", "機密"])
    assert.equal(internalized(name), name);
});
