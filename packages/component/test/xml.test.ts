import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, xml, isElement } from "../src/xml.js";

test("builds compact stanzas and parses them back", () => {
  const el = xml("message", { to: "a@b.test", type: "chat" }, xml("body", {}, "1 < 2 & \u{1F600}"));
  const text = el.toString();
  assert.equal(text, `<message to="a@b.test" type="chat"><body>1 &lt; 2 &amp; \u{1F600}</body></message>`);
  const back = parseElement(text);
  assert.equal(back.getChildText("body"), "1 < 2 & \u{1F600}");
  assert.equal(back.parent, null);
  assert.ok(isElement(back.children[0]));
});

test("malformed input throws", () => {
  assert.throws(() => parseElement("<a><b></a>"));
  assert.throws(() => parseElement("just text"));
});
