// serialise.ts against ltx's own Element#toString: byte for byte, on random trees of every kind of
// node ltx writes (attribute values of any text and type, null and undefined ones, text with and
// without characters to escape, numbers, nulls, elements of other classes) and on parsed stanzas.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, xml, type Element } from "../src/xml.js";
import { serialise } from "../src/serialise.js";

let seed = 11;
const rnd = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const TEXTS = [
  "",
  "a",
  "&",
  "<",
  ">",
  '"',
  "'",
  "&amp;",
  "é\u2028",
  "\ud800",
  "x".repeat(40),
  "a<b>c&d'e\"f",
];
const text = (): string => TEXTS[rnd(TEXTS.length)]! + TEXTS[rnd(TEXTS.length)]!;

function tree(depth: number): Element {
  const e = xml(`e${rnd(3)}`);
  for (let a = rnd(4); a > 0; a--) {
    const name = ["a", "b", "xmlns", "xml:lang", "id"][rnd(5)]!;
    const kind = rnd(8);
    (e.attrs as Record<string, unknown>)[name] =
      kind === 0 ? undefined : kind === 1 ? null : kind === 2 ? rnd(100) : kind === 3 ? true : text();
  }
  for (let c = rnd(depth > 3 ? 2 : 5); c > 0; c--) {
    const kind = rnd(10);
    const children = e.children as unknown[];
    if (kind < 4) children.push(text());
    else if (kind === 4) children.push(rnd(1000));
    else if (kind === 5) children.push(null, undefined);
    else {
      const child = tree(depth + 1);
      child.parent = e;
      children.push(child);
    }
  }
  return e;
}

test("serialise writes what toString writes, on 5,000 random trees", () => {
  for (let i = 0; i < 5000; i++) {
    const e = tree(0);
    assert.equal(serialise(e), e.toString());
  }
});

test("serialise writes what toString writes for parsed stanzas (entities, labels, nesting)", () => {
  for (const s of [
    `<message to='a@b.test' id='x&amp;y&apos;' xml:lang='en'><body>1 &lt; 2 &amp;&amp; 3 &gt; 2 "q"</body><securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking fgcolor='black'>SECRET</displaymarking><label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>MQYGBCsGAQE=</esssecuritylabel></label></securitylabel></message>`,
    `<presence/>`,
    `<iq type='get' id='a"b'><query xmlns='jabber:iq:version'/></iq>`,
  ]) {
    const e = parseElement(s);
    assert.equal(serialise(e), e.toString());
  }
});

test("a node that writes itself otherwise is written by its own code", () => {
  const e = xml("a", { x: "1" }, "t");
  const custom = { write: (w: (s: string) => void) => w("<raw&/>") };
  (e.children as unknown[]).push(custom, { toString: () => "o<" });
  assert.equal(serialise(e), e.toString());
  assert.equal(serialise(e), `<a x="1">t<raw&/>o&lt;</a>`);
  const own = xml("b");
  (own as unknown as { write: (w: (s: string) => void) => void }).write = (w) => w("<own/>");
  assert.equal(serialise(own), "<own/>");
});

// Review adv13: what the server reads is what was decided. A conforming parser (the servers'
// expat) turns a raw tab, line feed or CR in an attribute value into a space (XML 1.0 §3.3.3) and
// a raw CR LF or CR in text into a line feed (§2.11); character references survive both. On 3,000
// random elements (values of whitespace controls, markup characters, quotes, astral characters),
// the text serialise writes, read with those rules, gives back every attribute value and text.
test("serialise survives a conforming parser's normalisation (adv13)", () => {
  const PIECES = [
    "\t",
    "\n",
    "\r",
    "\r\n",
    " ",
    "&",
    "<",
    ">",
    '"',
    "'",
    "]]>",
    "&#13;",
    "a",
    "é",
    "\u{1F600}",
  ];
  const value = (): string => {
    let s = "";
    for (let i = rnd(6); i > 0; i--) s += PIECES[rnd(PIECES.length)]!;
    return s;
  };
  /** The server's reading: raw whitespace normalised as XML 1.0 says, then parsed. */
  const asServerReads = (xmlText: string): Element =>
    parseElement(
      xmlText
        .replace(/="([^"]*)"/g, (_, v: string) => `="${v.replace(/[\t\n\r]/g, " ")}"`)
        .replace(/\r\n?/g, "\n"),
    );
  for (let i = 0; i < 3000; i++) {
    const attrs: Record<string, string> = { a: value(), b: value() };
    const e = xml("m", attrs, value(), xml("c", { d: value() }, value()), value());
    const read = asServerReads(serialise(e));
    assert.equal(read.attrs.a, attrs.a);
    assert.equal(read.attrs.b, attrs.b);
    const c = read.getChild("c")!;
    const sent = e.getChild("c")!;
    assert.equal(c.attrs.d, sent.attrs.d);
    assert.equal(c.getText(), sent.getText());
    assert.equal(read.getText(), e.getText());
  }
});
