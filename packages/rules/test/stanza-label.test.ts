import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeEssLabel, securityLabelForms } from "@cordon/policy";
import { StanzaLabels } from "../src/stanza-label.js";
import { label, message, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

const ESS_UNKNOWN_POLICY =
  "<esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>MQYCAQEGASk=</esssecuritylabel>";
const ESS_GARBAGE = "<esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>AAAA</esssecuritylabel>";

describe("the effective label of a stanza", () => {
  const r = registry();
  const labels = new StanzaLabels(r);
  const green = labels.read(securityLabel(label(TLPX, 11)), [TLPX]);
  assert.ok(green.ok && green.label);
  const defaults = { accept: [TLPX, TLP], defaultLabel: green.label, maxDepth: 32 };
  const of = (inner: string, options: Partial<typeof defaults> = {}) =>
    labels.of(message(inner), { ...defaults, ...options });
  const problem = (inner: string) => {
    const got = of(inner);
    return got.ok ? "ok" : got.problem;
  };

  test("the form in the first accepted policy; a label seen before is served from the cache", () => {
    const first = of(securityLabel(label(TLPX, 12, [0])));
    const second = of(securityLabel(label(TLPX, 12, [0])));
    assert.ok(first.ok && second.ok);
    assert.equal(first.source, "stanza");
    assert.equal(first.label.policy.id, TLPX);
    assert.equal(first.label.classification.name, "AMBER");
    assert.equal(first.label, second.label);
    const inTlp = of(securityLabel(label(TLPX, 11), label(TLP, 11)), { accept: [TLP, TLPX] });
    assert.ok(inTlp.ok && inTlp.label.policy.id === TLP);
  });

  test("no label or an empty <label/> takes the default label; without one, unlabelled", () => {
    const none = of("");
    assert.ok(none.ok && none.source === "default" && none.label === green.label);
    const empty = of(securityLabel(""));
    assert.ok(empty.ok && empty.source === "default");
    assert.deepEqual(of("", { defaultLabel: undefined }), { ok: false, problem: "unlabelled" });
  });

  // Fixed (never-leak property, seed 1745325766): a room's default label its policy excludes was
  // applied live, while the history replay, reading it back, refused it.
  test("a default label not valid under its policy is refused, not applied", () => {
    const xml = `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${TLPX}'/><classification lacv='11'/><tag type='informative' id='${TLPX}.1' lacv='0'/></label>`;
    const decoded = securityLabelForms(securityLabel(xml), r, 8);
    assert.ok(decoded.kind === "forms");
    const excluded = decoded.forms[0];
    assert.ok(excluded && !(excluded instanceof Error));
    for (const inner of ["", securityLabel("")])
      assert.deepEqual(of(inner, { defaultLabel: excluded }), {
        ok: false,
        problem: "default-label-invalid",
      });
    // A stanza's own valid label is not judged on the default.
    assert.ok(of(securityLabel(label(TLPX, 12, [0])), { defaultLabel: excluded }).ok);
  });

  test("unreadable, unknown-policy, invalid, doubled and wrong-policy labels are problems", () => {
    assert.equal(problem(securityLabel(ESS_GARBAGE)), "label-malformed");
    assert.equal(problem(securityLabel(ESS_UNKNOWN_POLICY)), "label-unknown-policy");
    // The TLPX embargo note HOLD excludes GREEN: a valid encoding of an invalid label.
    const invalid = `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${TLPX}'/><classification lacv='11'/><tag type='informative' id='${TLPX}.1' lacv='0'/></label>`;
    assert.equal(problem(securityLabel(invalid)), "label-invalid");
    assert.equal(problem(securityLabel(label(TLPX, 11)) + securityLabel(label(TLPX, 11))), "label-several");
    const onlyTlp = of(securityLabel(label(TLP, 11)), { accept: [TLPX] });
    assert.deepEqual(onlyTlp, { ok: false, problem: "label-wrong-policy" });
  });

  test("hidden content is refused before the label is read", () => {
    assert.equal(problem(`<x xmlns='urn:example'>${securityLabel(label(TLPX, 11))}</x>`), "nested-label");
    assert.equal(problem("<forwarded xmlns='urn:xmpp:forward:0'/>"), "nested-stanza");
    assert.equal(problem("<p:x xmlns:p='urn:example'/>"), "prefixed-name");
    assert.equal(of("<a><b><c/></b></a>", { maxDepth: 2 }).ok, false);
  });

  test("forms in different policies must translate to each other", () => {
    assert.equal(problem(securityLabel(label(TLPX, 11), label(TLP, 13))), "label-inconsistent");
    assert.equal(problem(securityLabel(label(TLP, 13), label(TLPX, 11))), "label-inconsistent");
    assert.equal(problem(securityLabel(label(TLPX, 11), label(TLP, 11))), "ok");
    // TLPX AMBER translates into TLP with more categories (import markings); TLP's translates back
    // to it, so the two agree. Another audience, or a form with no way across, does not.
    const amber = label(TLPX, 12, [0]);
    assert.equal(problem(securityLabel(amber, label(TLP, 12, [0]))), "ok");
    assert.equal(problem(securityLabel(amber, label(TLP, 12, [1]))), "label-inconsistent");
    // TLPX BLACK has no TLP equivalent; TLP RED translates to TLPX RED, not BLACK.
    assert.equal(problem(securityLabel(label(TLPX, 14), label(TLP, 13))), "label-inconsistent");
  });

  // Fixed: both copies skipped the label's own policy and took the first form that decoded.
  test("forms in the same policy must agree: GREEN beside RED is refused, not judged GREEN", () => {
    assert.equal(problem(securityLabel(label(TLPX, 11), label(TLPX, 13))), "label-inconsistent");
    assert.equal(
      problem(securityLabel(label(TLP, 10), label(TLPX, 11), label(TLP, 13))),
      "label-inconsistent",
    );
    assert.equal(problem(securityLabel(label(TLPX, 11), label(TLPX, 11))), "ok");
  });

  // Fixed: a form that did not decode was skipped when another one did.
  test("every form must decode: an unreadable or unknown-policy equivalent is a problem", () => {
    assert.equal(problem(securityLabel(label(TLPX, 11), ESS_GARBAGE)), "label-malformed");
    assert.equal(problem(securityLabel(label(TLPX, 11), ESS_UNKNOWN_POLICY)), "label-unknown-policy");
  });

  // Fixed: an empty <label/> meant "the default" whatever its equivalents said.
  test("an empty <label/> beside an <equivalentlabel> is not taken as the default", () => {
    assert.equal(problem(securityLabel("", label(TLPX, 13))), "label-malformed");
  });

  // Fixed: only the first <label> was read, and <label>/<equivalentlabel> in another namespace
  // were skipped, so a client taking the last <label>, or matching by name, showed RED while the
  // stanza was judged GREEN (or on the default label).
  test("a second <label>, or a form in another namespace, is refused, not skipped", () => {
    const SL = "urn:xmpp:sec-label:0";
    const [green, red] = [label(TLPX, 11), label(TLPX, 13)];
    const two = `<securitylabel xmlns='${SL}'><label>${green}</label><label>${red}</label></securitylabel>`;
    assert.equal(problem(two), "label-malformed");
    const foreign = `<securitylabel xmlns='${SL}'><label xmlns='urn:example'>${red}</label></securitylabel>`;
    assert.equal(problem(foreign), "label-malformed");
    const foreignEq = `<securitylabel xmlns='${SL}'><label>${green}</label><equivalentlabel xmlns='urn:example'>${red}</equivalentlabel></securitylabel>`;
    assert.equal(problem(foreignEq), "label-malformed");
    // Held before: XML beside ESS of the same label agrees; ESS RED beside XML GREEN does not.
    const ess = (lacv: number) => {
      const read = labels.read(securityLabel(label(TLPX, lacv)), [TLPX]);
      assert.ok(read.ok && read.label);
      return `<esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>${Buffer.from(encodeEssLabel(read.label)).toString("base64")}</esssecuritylabel>`;
    };
    assert.equal(problem(securityLabel(ess(11), green)), "ok");
    assert.equal(problem(securityLabel(ess(13), green)), "label-inconsistent");
    assert.equal(problem(securityLabel(green, ess(13))), "label-inconsistent");
  });

  test("labels inside carbons, forwards and invitations are hidden content", () => {
    const red = securityLabel(label(TLPX, 13));
    const carbon = `<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'>${red}</message></forwarded></sent>`;
    assert.equal(problem(carbon), "nested-stanza");
    const invite = `<x xmlns='http://jabber.org/protocol/muc#user'><invite to='a@tlp.test'>${red}</invite></x>`;
    assert.equal(problem(invite), "nested-label");
    assert.equal(problem(`<x xmlns='urn:a'><message xmlns='urn:b'/></x>`), "nested-stanza");
  });

  test("a label may have at most 8 forms", () => {
    const forms = Array.from({ length: 8 }, () => label(TLPX, 11));
    assert.equal(problem(securityLabel(label(TLPX, 11), ...forms.slice(1))), "ok");
    assert.equal(problem(securityLabel(label(TLPX, 11), ...forms)), "label-malformed");
  });

  test("a stored <securitylabel/> (its XML) reads as the stanza's would", () => {
    const stored = labels.read(securityLabel(label(TLPX, 12, [0])), [TLPX]);
    assert.ok(stored.ok && stored.label?.classification.name === "AMBER");
    assert.deepEqual(labels.read(securityLabel(""), [TLPX]), { ok: true, label: undefined });
  });

  test("a policy reload re-reads labels under the new policies", () => {
    const r2 = registry();
    const fresh = new StanzaLabels(r2);
    const before = fresh.read(securityLabel(label(TLPX, 11)), [TLPX]);
    r2.replaceAll(registry().policies());
    const after = fresh.read(securityLabel(label(TLPX, 11)), [TLPX]);
    assert.ok(before.ok && before.label && after.ok && after.label);
    assert.notEqual(after.label.policy, before.label.policy);
    assert.equal(after.label.policy, r2.require(TLPX));
  });
});

// Fixed: the relay's caches were bounded in entries (10,000 of any size), the MUC's too (5,000).
describe("the reading cache is bounded in bytes", () => {
  test("a 200 KB refused label counts at least 200 KB, and the budget holds", () => {
    const labels = new StanzaLabels(registry(), { maxCacheBytes: 1024 * 1024 });
    const big = `<label xmlns='urn:example'>${"x".repeat(200 * 1024)}</label>`;
    const got = labels.of(message(securityLabel(big)), {
      accept: [TLPX],
      defaultLabel: undefined,
      maxDepth: 32,
    });
    assert.deepEqual(got, { ok: false, problem: "label-malformed" });
    assert.ok(labels.cacheBytes >= 200 * 1024, `${labels.cacheBytes}`);
    for (let i = 0; i < 10; i++)
      labels.of(message(securityLabel(big.replace("x", String(i)))), {
        accept: [TLPX],
        defaultLabel: undefined,
        maxDepth: 32,
      });
    assert.ok(labels.cacheBytes <= 1024 * 1024, `${labels.cacheBytes}`);
  });
});
