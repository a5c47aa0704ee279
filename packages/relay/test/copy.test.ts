// The relay's copies (copy.ts copyElement, decide.ts stanzaOnly) against what they replaced: the
// same attributes, the same children (shared, not copied), the same XML, the original untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isElement, xml, type Element } from "@cordon/component";
import { copyElement } from "../src/copy.js";
import { stanzaOnly } from "../src/decide.js";
import { el } from "./fixtures.js";

function formerCopy(e: Element): Element {
  const out = xml(e.name, { ...e.attrs });
  out.children = e.children.slice();
  return out;
}

function formerStanzaOnly(e: Element): Element {
  const copy = formerCopy(e);
  const attrs: Record<string, string | undefined> = {};
  for (const name of ["from", "to", "id", "type", "xml:lang"])
    if (copy.attrs[name] !== undefined) attrs[name] = copy.attrs[name];
  if (attrs["xml:lang"] !== undefined && !/^[A-Za-z0-9-]{1,35}$/.test(attrs["xml:lang"]))
    delete attrs["xml:lang"];
  const ns = copy.attrs.xmlns;
  if (ns !== undefined && ["jabber:client", "jabber:server", "jabber:component:accept"].includes(ns))
    attrs.xmlns = ns;
  copy.attrs = attrs;
  copy.children = copy.children.filter(isElement);
  return copy;
}

const STANZAS = [
  `<message type='chat' from='a@x.test/r' to='b@y.test' id='m1'><body>hi &amp; &lt;b&gt;</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
  `<message xmlns='jabber:client' xml:lang='en-GB' type='chat' from='a@x.test/r' to='b@y.test' id='m2'>text<body>b</body>tail</message>`,
  `<message xmlns='urn:other' xml:lang='en GB&lt;' from='a@x.test/r' to='b@y.test' __self='s' __source='t' extra='e'><body>b</body></message>`,
  `<presence from='a@x.test/r' to='b@y.test' id='p'><show>away</show><status>s</status><priority>5</priority></presence>`,
  `<iq type='get' from='a@x.test/r' to='b@y.test' id='q' xmlns='jabber:server'><ping xmlns='urn:xmpp:ping'/></iq>`,
  `<message to='b@y.test' from='a@x.test' id='x' type='groupchat' lang='fr'><body/>  </message>`,
];

test("copyElement: what xml(name, {...attrs}) made, children shared, the original untouched", () => {
  for (const text of STANZAS) {
    const original = el(text);
    const before = original.toString();
    const copy = copyElement(original);
    const former = formerCopy(original);
    // Every attribute is kept: the former copy dropped `__self` and `__source` (ltx createElement's
    // JSX artefacts), the one difference; copyElement now copies only the outgoing label (made by xml).
    assert.deepEqual(copy.attrs, original.attrs);
    if (!("__self" in original.attrs)) {
      assert.equal(copy.toString(), former.toString());
      assert.deepEqual(copy.attrs, former.attrs);
    }
    assert.equal(copy.children.length, original.children.length);
    copy.children.forEach((c, i) => assert.equal(c, original.children[i]));
    copy.attrs.id = "changed";
    copy.children.pop();
    assert.equal(original.toString(), before);
  }
});

test("stanzaOnly: the same reduced copy as copyElement then the reduction", () => {
  for (const text of STANZAS) {
    const original = el(text);
    const before = original.toString();
    const copy = stanzaOnly(original);
    const former = formerStanzaOnly(original);
    assert.equal(copy.toString(), former.toString());
    assert.deepEqual(copy.attrs, former.attrs);
    assert.deepEqual(copy.children, former.children);
    copy.children.pop();
    copy.attrs.to = "z@z.test";
    assert.equal(original.toString(), before);
  }
});
