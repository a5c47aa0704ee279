import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeAttr, escapeText } from "@cordon/policy";
import { parseElement, xml, isElement, escapeXml, escapeXmlText } from "../src/xml.js";

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

test("one escaping helper: attribute values keep tab, line feed and carriage return (XML 1.0 §3.3.3)", () => {
  // A literal tab or newline in an attribute value reaches the receiver as a space (attribute-value
  // normalisation): written as a character reference it arrives intact.
  const value = `a"b'c<d>&\te\nf\rg`;
  assert.equal(escapeXml(value), "a&quot;b&apos;c&lt;d&gt;&amp;&#9;e&#10;f&#13;g");
  assert.equal(parseElement(`<x a="${escapeXml(value)}" b='${escapeXml(value)}'/>`).attrs.b, value);
  assert.equal(escapeXmlText("1 < 2 & 3 > 0 \"'"), "1 &lt; 2 &amp; 3 &gt; 0 \"'");
  assert.equal(escapeXml, escapeAttr);
  assert.equal(escapeXmlText, escapeText);
});
