import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  buildSecurityLabelXml,
  parseSecurityLabelElement,
  securityLabelForms,
  serializeSecurityLabelElement,
} from "../../src/formats/xep0258.js";
import { encodeEssLabel } from "../../src/formats/ess.js";
import { parseLabelData } from "../../src/formats/detect.js";
import { labelMarking } from "../../src/marking.js";
import { makeLabel, sameLabel } from "../../src/label.js";
import { MalformedEncodingError, PolicyError, UnknownPolicyError } from "../../src/errors.js";
import type { XmlElementLike } from "../../src/xml/node.js";
import { corpusFile, HARBOUR, registryOf, TLP_EXTENDED } from "../corpus.js";

const r = registryOf("harbour-policy.xml", "tlp-extended-policy.xml", "tlp-policy.xml");
const ess = (f: string) => Buffer.from(encodeEssLabel(parseLabelData(corpusFile(f), r))).toString("base64");

describe("XEP-0258 securitylabel", () => {
  test("outgoing element: policy marking, colours, original ESS bytes, compact", () => {
    const l = parseLabelData(corpusFile("harbour-label-crew-cargo.ber"), r);
    const xml = buildSecurityLabelXml(l);
    assert.equal(
      xml,
      `<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking fgcolor='black' bgcolor='yellow'>| Harbour CREW ONLY HAZ:TOXIC+FLAMMABLE BERTH SOUTH (FRAGILE keep cold) |</displaymarking>` +
        `<label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${corpusFile("harbour-label-crew-cargo.ber").toString("base64")}</esssecuritylabel></label></securitylabel>`,
    );
    const res = securityLabelForms(xml, r);
    assert.equal(res.kind, "forms");
    const form = res.kind === "forms" ? res.forms[0] : undefined;
    assert.ok(form && !(form instanceof PolicyError) && sameLabel(form, l));
  });

  test("every form (label and equivalentlabels) is decoded, in order, each under its own policy", () => {
    const tlpx = ess("tlpx-label-amber-partners.xml");
    const harbour = ess("harbour-label-customs.xml");
    const el: XmlElementLike = {
      name: "securitylabel",
      attrs: { xmlns: "urn:xmpp:sec-label:0" },
      children: [
        { name: "displaymarking", attrs: {}, children: ["SENDER SAYS ANYTHING"] },
        {
          name: "label",
          attrs: {},
          children: [
            { name: "esssecuritylabel", attrs: { xmlns: "urn:xmpp:sec-label:ess:0" }, children: [tlpx] },
          ],
        },
        {
          name: "equivalentlabel",
          attrs: {},
          children: [
            { name: "esssecuritylabel", attrs: { xmlns: "urn:xmpp:sec-label:ess:0" }, children: [harbour] },
          ],
        },
      ],
    };
    const res = securityLabelForms(el, r);
    assert.equal(res.kind, "forms");
    const [first, second] = res.kind === "forms" ? res.forms : [];
    assert.ok(first && !(first instanceof PolicyError) && first.policy.id === TLP_EXTENDED);
    assert.ok(second && !(second instanceof PolicyError));
    assert.equal(labelMarking(second), "| Harbour OFFICERS BERTH NORTH CUSTOMS |");
    assert.throws(() => securityLabelForms(el, r, 1), MalformedEncodingError);
    const unknown = securityLabelForms(
      "<securitylabel xmlns='urn:xmpp:sec-label:0'><label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>MQYCAQEGASk=</esssecuritylabel></label></securitylabel>",
      r,
    );
    assert.ok(unknown.kind === "forms" && unknown.forms[0] instanceof UnknownPolicyError);
  });

  test("an empty <label/> means the default label; its equivalents are counted", () => {
    assert.deepEqual(
      securityLabelForms("<securitylabel xmlns='urn:xmpp:sec-label:0'><label/></securitylabel>", r),
      { kind: "empty", equivalents: 0 },
    );
    assert.deepEqual(
      securityLabelForms(
        `<securitylabel xmlns='urn:xmpp:sec-label:0'><label/><equivalentlabel><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${ess("tlpx-label-amber-partners.xml")}</esssecuritylabel></equivalentlabel></securitylabel>`,
        r,
      ),
      { kind: "empty", equivalents: 1 },
    );
  });

  test("unknown payloads round-trip unchanged", () => {
    const xml =
      "<securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking fgcolor='black' bgcolor='red'>SECRET</displaymarking><label><x:thing xmlns:x='urn:example' a='1'>t<x:y/></x:thing></label></securitylabel>";
    assert.equal(serializeSecurityLabelElement(parseSecurityLabelElement(xml)), xml);
  });

  test("property: serialise∘parse is the identity on the element model", () => {
    const text = fc.string({ maxLength: 30 });
    const payload = fc.record({
      ns: fc.constantFrom("urn:a", "urn:xmpp:sec-label:ess:0"),
      local: fc.constantFrom("p", "esssecuritylabel"),
      t: text,
    });
    fc.assert(
      fc.property(
        fc.option(
          fc.record({
            text,
            fg: fc.option(text, { nil: undefined }),
            bg: fc.option(text, { nil: undefined }),
          }),
          { nil: undefined },
        ),
        fc.option(payload, { nil: undefined }),
        fc.array(payload, { maxLength: 3 }),
        (dm, lp, eqs) => {
          const node = (p: { ns: string; local: string; t: string }) => ({
            name: p.local,
            local: p.local,
            uri: p.ns,
            attrs: { xmlns: p.ns },
            children: p.t === "" ? [] : [p.t],
          });
          const model = {
            displayMarking: dm ? { text: dm.text, fgcolor: dm.fg, bgcolor: dm.bg } : undefined,
            hasLabel: true,
            label: lp ? node(lp) : undefined,
            equivalentLabels: eqs.map(node),
          };
          const xml = serializeSecurityLabelElement(model);
          const back = parseSecurityLabelElement(xml);
          assert.equal(serializeSecurityLabelElement(back), xml);
          assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(model)));
        },
      ),
      { numRuns: 500 },
    );
  });

  test("catalog building: build a label from policy objects and encode it", () => {
    const p = r.require(HARBOUR);
    const l = makeLabel(p, p.classificationByName.get("CREW")!, [
      p.categories.find((c) => c.name === "SOUTH")!,
    ]);
    assert.match(
      buildSecurityLabelXml(l),
      /<displaymarking fgcolor='black' bgcolor='yellow'>\| Harbour CREW ONLY BERTH SOUTH \|<\/displaymarking>/,
    );
  });
});
