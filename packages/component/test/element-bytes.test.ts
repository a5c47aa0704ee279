import { test } from "node:test";
import assert from "node:assert/strict";
import { elementBytes } from "../src/element-bytes.js";
import { parseElement, xml } from "../src/xml.js";

test("grows with what the sender chose: ids, attributes, text", () => {
  const small = elementBytes(parseElement("<message id='1' to='a@b'><body>hi</body></message>"));
  const big = elementBytes(xml("message", { id: "x".repeat(100_000), to: "a@b" }, xml("body", {}, "hi")));
  assert.ok(small < 1000);
  assert.ok(big >= 200_000, `${big}`);
});

test("a deeply nested element is walked without recursion", () => {
  let el = xml("x");
  for (let i = 0; i < 100_000; i++) el = xml("x", {}, el);
  assert.ok(elementBytes(el) > 100_000);
});
