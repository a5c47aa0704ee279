// Compact verdicts (protocol.ts, docs/performance.md §4): the module rebuilds the delivered message
// and its FLOT form from the message it asked about. Each compact form is sent only when that
// rebuilding — done here exactly as the Prosody module does it — gives the decided form, and the
// sender's label never survives it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isElement, parseElement, xml, type Element } from "@cordon/component";
import { buildSecurityLabelXml } from "@cordon/policy";
import { decide } from "../src/decide.js";
import { verdictElement } from "../src/protocol.js";
import { allClearedContext as context, label, SERVER } from "./decide-fixture.js";

const NS_LABELS = "urn:xmpp:sec-label:0";
const NS_CLIENT = "jabber:client";

const isLabel = (c: Element | string) =>
  isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_LABELS;
const inStanzaNs = (c: Element | string) =>
  isElement(c) && (c.attrs.xmlns === undefined || c.attrs.xmlns === NS_CLIENT);
const children = (el: Element) =>
  xml(
    "x",
    {},
    ...el.children.map((c) => (typeof c === "string" ? c : parseElement(c.toString()))),
  ).toString();

/** What the module makes of a verdict (mod_cordon_guard.lua delivered_form, flot_form). */
function rebuild(asked: Element, verdict: Element): { delivered: Element; flot?: Element } {
  const parsed = parseElement(verdict.toString());
  let delivered: Element;
  if (parsed.attrs.keep === "1") {
    const labels = parsed.getChildren("securitylabel", NS_LABELS);
    if (parsed.attrs.label) labels.push(parseElement(parsed.attrs.label));
    delivered = xml(asked.name, { ...asked.attrs }, ...asked.children.filter((c) => !isLabel(c)), ...labels);
  } else delivered = parsed.getChild("message", NS_CLIENT)!;
  const flotEl = parsed.getChild("flot");
  if (!flotEl) return { delivered };
  if (flotEl.attrs.keep !== "1") return { delivered, flot: flotEl.getChild("message", NS_CLIENT)! };
  const replacements = flotEl.getChildElements();
  let k = 0;
  const out = delivered.children.map((c) => {
    const r = replacements[k];
    if (r && inStanzaNs(c) && (c as Element).name === r.name) {
      k++;
      const copy = parseElement(r.toString());
      delete copy.attrs.xmlns;
      return copy;
    }
    return c;
  });
  assert.equal(k, replacements.length, "every replacement finds its place");
  return { delivered, flot: xml(delivered.name, { ...delivered.attrs }, ...out) };
}

const OWN_LABEL = `<securitylabel xmlns='${NS_LABELS}'><displaymarking>SENDER'S OWN MARKING</displaymarking>${buildSecurityLabelXml(
  label("SECRET"),
)
  .replace(/^<securitylabel[^>]*>/, "")
  .replace(/<displaymarking[^<]*<\/displaymarking>/, "")
  .replace(/<\/securitylabel>$/, "")}</securitylabel>`;

const MESSAGES = [
  `<message from='alice@example.test/r' to='bob@example.test' id='1' type='chat'><body>plain</body></message>`,
  `<message from='alice@example.test/r' to='bob@example.test' id='2' type='chat'><body>labelled</body>${OWN_LABEL}</message>`,
  `<message from='alice@example.test/r' to='bob@example.test' id='3'><subject>s</subject><thread>t</thread><body>b</body><body xml:lang='fr'>fr</body>${OWN_LABEL}<active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
  `<message from='alice@example.test/r' to='bob@example.test' id='4'><body>rich</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>rich</body></html></message>`,
  `<message from='alice@example.test/r' to='bob@example.test' id='5'><x xmlns='jabber:x:oob'><url>https://example.test/</url></x></message>`,
  `<message from='alice@example.test/r' to='bob@example.test' id='6' type='error'><body>e</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
];

for (const compact of [1, 2] as const)
  for (const [i, text] of MESSAGES.entries())
    test(`compact='${compact}' message ${i + 1}: the module's rebuilding gives exactly the decided forms, never the sender's label`, async () => {
      const asked = parseElement(text);
      const decision = await decide(await context(), SERVER, {
        origin: "c2s",
        message: asked,
        sessions: [
          { resource: "aware", ip: undefined, labels: true },
          { resource: "unaware", ip: undefined, labels: false },
        ],
      });
      assert.equal(decision.verdict.action, "deliver");
      const v = decision.verdict as { message: Element; flot?: Element };
      const expected = { delivered: children(v.message), flot: v.flot ? children(v.flot) : undefined };
      const element = verdictElement(decision.verdict, asked, compact);
      const got = rebuild(asked, element);
      assert.equal(children(got.delivered), expected.delivered);
      assert.equal(got.flot ? children(got.flot) : undefined, expected.flot);
      assert.ok(!children(got.delivered).includes("SENDER'S OWN MARKING"));
      assert.ok(
        !element.toString().includes("SENDER'S OWN MARKING"),
        "nothing of the sender's label in the verdict",
      );
      if (i === 0 || i === 1) {
        assert.equal(element.attrs.keep, "1", "a plain chat message gets a compact verdict");
        assert.equal(element.getChild("message"), undefined, "its body is not sent back");
      }
    });

test("a delivered message that is not the one asked about with its labels replaced is sent whole", async () => {
  const asked = parseElement(MESSAGES[0]!);
  const other = parseElement(MESSAGES[0]!.replace("plain", "changed"));
  const element = verdictElement({ action: "deliver", message: other }, asked, 2);
  assert.equal(element.attrs.keep, undefined);
  assert.equal(element.getChild("message", NS_CLIENT)?.getChildText("body"), "changed");
});
