import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseElement } from "@cordon/component";
import { MessageLabelResolver } from "../src/security/message-label.js";
import { registry, policy, label, labelXml } from "./fixtures.js";

const resolver = new MessageLabelResolver(registry, policy.id);
const message = (inner: string) =>
  parseElement(`<message to='r@m.test' type='groupchat'><body>x</body>${inner}</message>`);
const U = label("UNCLASSIFIED");

test("a label in the governing policy is resolved, and the same XML is served from the cache", () => {
  const xml = labelXml(label("SECRET", "ALPHA"));
  const first = resolver.resolve(message(xml), {});
  const second = resolver.resolve(message(xml), {});
  assert.ok(first.ok && second.ok);
  assert.equal(first.ok && first.label.classification.name, "SECRET");
  assert.equal(first.ok && second.ok && first.label, second.label, "cached");
});

test("no label or an empty <label/> means the room default, then the service default; none means refused", () => {
  const R = label("RESTRICTED");
  const none = resolver.resolve(message(""), { room: R, service: U });
  assert.ok(none.ok && none.label === R && none.fromDefault);
  const empty = resolver.resolve(
    message("<securitylabel xmlns='urn:xmpp:sec-label:0'><label/></securitylabel>"),
    { service: U },
  );
  assert.ok(empty.ok && empty.label === U);
  assert.deepEqual(resolver.resolve(message(""), {}), { ok: false, reason: "unlabelled" });
});

test("malformed, invalid, doubled and unknown-policy labels are refused with a reason", () => {
  const bad = resolver.resolve(
    message(
      "<securitylabel xmlns='urn:xmpp:sec-label:0'><label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>AAAA</esssecuritylabel></label></securitylabel>",
    ),
    { service: U },
  );
  assert.deepEqual(bad, { ok: false, reason: "label-malformed" });
  // ALPHA excludes UNCLASSIFIED in the demo policy: a valid encoding of an invalid label.
  const invalid = resolver.resolve(message(labelXml(label("UNCLASSIFIED", "ALPHA"))), { service: U });
  assert.deepEqual(invalid, { ok: false, reason: "label-invalid" });
  const twice = resolver.resolve(message(labelXml(U) + labelXml(U)), { service: U });
  assert.deepEqual(twice, { ok: false, reason: "label-several" });
  // An ESS label whose policy OID nobody loaded (1.1: the XEP-0258 example policy).
  const other = resolver.resolve(
    message(
      "<securitylabel xmlns='urn:xmpp:sec-label:0'><label><esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>MQYCAQEGASk=</esssecuritylabel></label></securitylabel>",
    ),
    { service: U },
  );
  assert.equal(other.ok, false);
});

test("a label whose equivalent forms disagree is refused (inconsistent); agreeing forms resolve", async () => {
  const { PolicyRegistry } = await import("@cordon/policy");
  const corpus = resolve(import.meta.dirname, "../../../../test/conformance");
  const pair = new PolicyRegistry();
  const tlpx = pair.loadString(readFileSync(resolve(corpus, "tlp-extended-policy.xml"), "utf8"));
  const tlp = pair.loadString(readFileSync(resolve(corpus, "tlp-policy.xml"), "utf8"));
  const spiffy = (oid: string, lacv: number) =>
    `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${oid}'/><classification lacv='${lacv}'/></label>`;
  const element = (main: string, equivalent: string) =>
    message(
      `<securitylabel xmlns='urn:xmpp:sec-label:0'><label>${main}</label><equivalentlabel>${equivalent}</equivalentlabel></securitylabel>`,
    );
  const governed = new MessageLabelResolver(pair, tlpx.id);
  // GREEN (11) in the governing policy, RED (13) in its equivalent.
  assert.deepEqual(governed.resolve(element(spiffy(tlpx.id, 11), spiffy(tlp.id, 13)), {}), {
    ok: false,
    reason: "label-inconsistent",
  });
  const agreeing = governed.resolve(element(spiffy(tlpx.id, 11), spiffy(tlp.id, 11)), {});
  assert.ok(agreeing.ok && agreeing.label.policy === tlpx);
});
