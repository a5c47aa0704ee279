import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeAttr, escapeText } from "@cordon/policy";
import { parseElement, xml, isElement, escapeXml, escapeXmlText } from "../src/xml.js";
import { serialise } from "../src/serialise.js";

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

test("serialise: ltx's bytes, with whitespace controls as character references (flot13)", () => {
  // Prosody and ejabberd read the component stream with expat: a raw CR (or CR LF) in text becomes
  // LF (XML 1.0 §2.11), a raw tab, LF or CR in an attribute a space (§3.3.3).
  const plain = xml(
    "message",
    { to: "a@b.test", id: `1'"`, n: undefined },
    xml("body", {}, "1 < 2 & 3 > 0"),
    xml("x"),
  );
  assert.equal(serialise(plain), plain.toString());
  const ws = xml(
    "message",
    { to: "a@b.test" },
    xml("body", {}, "a\r\nb\tc\rd\n"),
    xml("thread", { parent: "p\tq\r\nr" }, "t"),
  );
  assert.equal(
    serialise(ws),
    `<message to="a@b.test"><body>a&#13;\nb\tc&#13;d\n</body><thread parent="p&#9;q&#13;&#10;r">t</thread></message>`,
  );
  assert.notEqual(ws.toString(), serialise(ws), "ltx writes them raw");
  const back = parseElement(serialise(ws));
  assert.equal(back.getChildText("body"), "a\r\nb\tc\rd\n");
  assert.equal(back.getChild("thread")?.attrs.parent, "p\tq\r\nr");
  assert.equal(escapeText("a\rb"), "a&#13;b");
});
