import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { foldPresence, presencePart } from "../src/presence-folding.js";
import { el } from "./fixtures.js";

const FULL =
  "<presence><show>away</show><status>lunch with the general</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' node='n' ver='v' hash='sha-1'/><x xmlns='vcard-temp:x:update'><photo>abc</photo></x><x xmlns='http://jabber.org/protocol/muc'/><securitylabel xmlns='urn:xmpp:sec-label:0'/></presence>";

describe("foldPresence", () => {
  test("fold keeps only the configured parts (availability stays, status text, caps and avatar go)", () => {
    const p = el(FULL);
    assert.equal(foldPresence(p, { mode: "fold", keep: ["show", "priority", "muc"] }).outcome, "ok");
    assert.equal(
      p.toString(),
      '<presence><show>away</show><priority>5</priority><x xmlns="http://jabber.org/protocol/muc"/></presence>',
    );
  });

  test("full keeps everything but the label", () => {
    const p = el(FULL);
    foldPresence(p, { mode: "full", keep: [] });
    assert.equal(p.getChild("securitylabel"), undefined);
    assert.equal(p.getChildren("x").length, 2);
    assert.equal(p.getChildText("status"), "lunch with the general");
  });

  test("none blocks presence altogether", () => {
    assert.deepEqual(foldPresence(el(FULL), { mode: "none", keep: [] }), { outcome: "blocked" });
  });

  test("the error of a presence error is always kept", () => {
    const p = el("<presence type='error'><error type='cancel'/></presence>");
    foldPresence(p, { mode: "fold", keep: [] });
    assert.equal(p.children.length, 1);
    assert.equal(presencePart(el("<error/>")), "error");
  });
});
