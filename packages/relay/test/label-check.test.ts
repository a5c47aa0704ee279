import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { securityLabels } from "@cordon/rules";
import { LabelEngine, removeSecurityLabels } from "../src/label-check.js";
import { clearance, el, label, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

describe("LabelEngine", () => {
  const engine = new LabelEngine(registry());
  const tlp = engine.policy(TLP);

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

  test("removeSecurityLabels removes only XEP-0258 elements", () => {
    const m = el(
      `<message><body>x</body>${securityLabel(label(TLPX, 11))}<securitylabel xmlns='other'/></message>`,
    );
    assert.equal(securityLabels(m).length, 1);
    removeSecurityLabels(m);
    assert.equal(m.children.length, 2);
  });
});
