import { test } from "node:test";
import assert from "node:assert/strict";
import { ownString } from "../src/room/own-string.js";

test("ownString copies exactly, lone surrogates and all", () => {
  for (const s of [
    "",
    "a",
    "alice@example.test/pc",
    "é\u{1F600}\uD800x\uDC00",
    "<c ver='x&amp;'/>".repeat(50),
  ])
    assert.equal(ownString(s), s);
});
