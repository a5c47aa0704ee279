import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "../src/xml.js";
import { hiddenContent } from "../src/hidden-content.js";

const check = (xml: string, maxDepth = 8) => hiddenContent(parseElement(xml), maxDepth);
const SL = "xmlns='urn:xmpp:sec-label:0'";

test("a stanza's own label and ordinary payloads are not hidden content", () => {
  assert.equal(
    check(
      `<message><body>hi</body><securitylabel ${SL}><label/></securitylabel><x xmlns='urn:a'><y a='1' xml:lang='en'/></x></message>`,
    ),
    undefined,
  );
});

test("labels below the top level, or top-level ones in another namespace, are nested labels", () => {
  assert.equal(check(`<message><x xmlns='urn:a'><securitylabel ${SL}/></x></message>`), "nested-label");
  assert.equal(check(`<message><securitylabel xmlns='urn:other'/></message>`), "nested-label");
});

test("forwarded or embedded stanzas, at any depth", () => {
  assert.equal(check(`<message><forwarded xmlns='urn:xmpp:forward:0'/></message>`), "nested-stanza");
  assert.equal(check(`<message><x xmlns='urn:a'><message/></x></message>`), "nested-stanza");
  assert.equal(check(`<iq><presence/></iq>`), "nested-stanza");
});

test("prefixed element and attribute names (xml: and xmlns: attributes excepted)", () => {
  assert.equal(check(`<message><c:body xmlns:c='jabber:client'>x</c:body></message>`), "prefixed-name");
  assert.equal(check(`<message><x xmlns='urn:a' xmlns:p='urn:p' p:a='1'/></message>`), "prefixed-name");
  assert.equal(check(`<message><x xmlns='urn:a' xmlns:p='urn:p' xml:lang='en'/></message>`), undefined);
});

test("nesting beyond maxDepth is refused, at any depth, without recursion", () => {
  const nest = (n: number) => `<message>${"<a xmlns='urn:a'>".repeat(n)}${"</a>".repeat(n)}</message>`;
  assert.equal(check(nest(8)), undefined);
  assert.equal(check(nest(9)), "too-deep");
  assert.equal(check(nest(50_000), 64), "too-deep");
});
