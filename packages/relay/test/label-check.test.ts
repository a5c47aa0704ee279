import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LabelEngine, removeSecurityLabels, securityLabels } from "../src/label-check.js";
import { clearance, el, label, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

describe("LabelEngine", () => {
  const engine = new LabelEngine(registry());
  const tlpx = engine.policy(TLPX);
  const tlp = engine.policy(TLP);
  const green = engine.labelFromData(label(TLPX, 11));

  test("resolves the stanza's label in the sending policy", () => {
    const r = engine.resolve(
      el(`<message>${securityLabel(label(TLPX, 12, [0]))}</message>`),
      tlpx,
      tlp,
      "refuse",
      undefined,
    );
    assert.ok(r.ok);
    assert.equal(r.source, "stanza");
    assert.equal(r.label.classification.name, "AMBER");
  });

  test("no label or an empty <label/> follows the unlabelled setting", () => {
    assert.deepEqual(engine.resolve(el("<message/>"), tlpx, tlp, "refuse", green), {
      ok: false,
      problem: "unlabelled",
    });
    assert.deepEqual(
      engine.resolve(el("<message/>"), tlpx, tlp, "default", undefined),
      { ok: false, problem: "unlabelled" },
      "no default → refuse",
    );
    const r = engine.resolve(
      el("<message><securitylabel xmlns='urn:xmpp:sec-label:0'><label/></securitylabel></message>"),
      tlpx,
      tlp,
      "default",
      green,
    );
    assert.ok(r.ok);
    assert.equal(r.source, "default");
    assert.equal(r.label, green);
  });

  test("malformed, unknown-policy, invalid and duplicated labels are problems", () => {
    const resolve = (inner: string) =>
      engine.resolve(el(`<message>${inner}</message>`), tlpx, tlp, "default", green);
    assert.deepEqual(
      resolve(securityLabel("<esssecuritylabel xmlns='urn:xmpp:sec-label:ess:0'>!!!</esssecuritylabel>")),
      { ok: false, problem: "label-malformed" },
    );
    assert.deepEqual(resolve(securityLabel(label("1.2.3.4", 1))), {
      ok: false,
      problem: "label-unknown-policy",
    });
    // The TLPX embargo note HOLD excludes GREEN.
    const invalid = `<label xmlns='http://surevine.com/xmlns/spiffy'><policy id='${TLPX}'/><classification lacv='11'/><tag type='informative' id='${TLPX}.1' lacv='0'/></label>`;
    assert.deepEqual(resolve(securityLabel(invalid)), { ok: false, problem: "label-invalid" });
    assert.deepEqual(resolve(securityLabel(label(TLPX, 11)) + securityLabel(label(TLPX, 11))), {
      ok: false,
      problem: "label-several",
    });
  });

  test("a label already in the receiving policy is accepted", () => {
    const r = engine.resolve(
      el(`<message>${securityLabel(label(TLP, 11))}</message>`),
      tlpx,
      tlp,
      "refuse",
      undefined,
    );
    assert.ok(r.ok);
    assert.equal(r.label.policy, tlp);
  });

  test("grants translate into the clearance's policy; above the clearance is refused", () => {
    const tlpClearance = engine.clearanceFromData(clearance(TLP, [10, 11, 12]));
    assert.ok(tlpClearance);
    assert.equal(engine.refusal(engine.labelFromData(label(TLPX, 12, [0])), tlpClearance), undefined);
    assert.equal(engine.refusal(engine.labelFromData(label(TLPX, 13)), tlpClearance), "classification");
    const noRegions = engine.clearanceFromData(clearance(TLP, [12], []));
    assert.ok(noRegions);
    assert.equal(engine.refusal(engine.labelFromData(label(TLPX, 12, [0])), noRegions), "category");
    assert.equal(engine.clearanceFromData("<clearance/>"), undefined);
  });

  test("the outgoing element carries the receiving policy's marking, never the sender's", () => {
    const translated = engine.translate(engine.labelFromData(label(TLPX, 12, [0])), tlp);
    assert.ok(translated);
    const out = engine.outgoing(translated, "");
    assert.equal(out.marking, "TLP:AMBER [TO:PARTNERS] (handle with care) (relayed)");
    assert.equal(out.element.getChildText("displaymarking"), out.marking);
    assert.ok(out.element.getChild("label")?.getChild("esssecuritylabel"));
  });

  test("securityLabels / removeSecurityLabels find only XEP-0258 elements", () => {
    const m = el(
      `<message><body>x</body>${securityLabel(label(TLPX, 11))}<securitylabel xmlns='other'/></message>`,
    );
    assert.equal(securityLabels(m).length, 1);
    removeSecurityLabels(m);
    assert.equal(m.children.length, 2);
  });
});
