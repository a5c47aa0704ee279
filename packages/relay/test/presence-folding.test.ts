import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { foldPresence, presencePart } from "../src/presence-folding.js";
import { el } from "./fixtures.js";

const FULL =
  "<presence><show>away</show><status>lunch with the general</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' node='n' ver='v' hash='sha-1'/><x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x><x xmlns='http://jabber.org/protocol/muc'/><securitylabel xmlns='urn:xmpp:sec-label:0'/></presence>";

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

  // Fixed: a kept part crossed with whatever was nested inside it.
  test("a kept part crosses in its known shape only: nothing nested inside it crosses", () => {
    const p = el(
      "<presence><show>away<exfil>plans</exfil></show><status xml:lang='en' data='x'>lun<b/>ch</status><priority>5</priority>" +
        "<c xmlns='http://jabber.org/protocol/caps' node='n' ver='v' hash='sha-1' note='plans'><exfil>plans</exfil></c>" +
        "<x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo><exfil>plans</exfil></x>" +
        "<x xmlns='http://jabber.org/protocol/muc'><exfil>plans</exfil><history maxstanzas='5' note='plans'/><password>pw</password></x>" +
        "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant' note='plans'><reason>r</reason><exfil/></item><status code='110'/><exfil xmlns='urn:example'>plans</exfil></x>" +
        "<nick xmlns='http://jabber.org/protocol/nick'>bo<i>b</i></nick><delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z' from='plans@x'>plans</delay>" +
        "</presence>",
    );
    foldPresence(p, {
      mode: "fold",
      keep: ["show", "status", "priority", "caps", "avatar", "muc", "nick", "idle"],
    });
    assert.equal(
      p.toString(),
      // The show's text was "awayplans", no RFC 6121 §4.7.2.1 value: left out.
      '<presence><status xml:lang="en">lunch</status><priority>5</priority>' +
        '<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="v"/>' +
        '<x xmlns="vcard-temp:x:update"><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>' +
        '<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="5"/><password>pw</password></x>' +
        '<x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="member" role="participant"><reason>r</reason></item><status code="110"/></x>' +
        '<nick xmlns="http://jabber.org/protocol/nick">bob</nick><delay xmlns="urn:xmpp:delay" stamp="2026-01-01T00:00:00Z"/>' +
        "</presence>",
    );
    assert.ok(!p.toString().includes("plans"));
  });
});
