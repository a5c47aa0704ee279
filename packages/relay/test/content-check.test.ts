import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compileContent, foldText, messageTexts, words } from "../src/content-check.js";
import { el } from "./fixtures.js";

describe("content check", () => {
  const checker = compileContent([
    { words: ["Excalibur", "operation dawn"] },
    { words: ["draft"], classifications: ["RED"] },
  ]);

  test("matches whole words regardless of case", () => {
    assert.equal(checker.check(["the EXCALIBUR file"], undefined), 0);
    assert.equal(checker.check(["excaliburs are not excalibur-like"], undefined), 0);
    assert.equal(checker.check(["nothing to see"], undefined), -1);
    assert.equal(checker.check(["subexcaliburx"], undefined), -1, "no match inside a longer word");
  });

  test("normalises Unicode: full-width letters, zero-width characters, case folding", () => {
    assert.equal(
      checker.check(["\uFF25\uFF38\uFF23\uFF21\uFF2C\uFF29\uFF22\uFF35\uFF32"], undefined),
      0,
      "full-width",
    );
    assert.equal(checker.check(["exca\u200Blibur"], undefined), 0, "zero-width space");
    assert.equal(foldText("Straße"), "strasse");
    assert.deepEqual(words("Οδυσσευς"), words("ΟΔΥΣΣΕΥΣ"));
  });

  test("invisible characters and combining marks cannot split or disguise a word", () => {
    for (const disguised of [
      "ex\u034Fcalibur",
      "excal\uFE0Fibur",
      "exca\u180Blibur",
      "excali\u{E0100}bur",
      "e\u0332xcalibur",
      "excalibur\u3164plans",
      "éxcalibur",
    ]) {
      assert.equal(checker.check([disguised], undefined), 0, JSON.stringify(disguised));
    }
  });

  test("attribute text counts (XHTML alt, title, href)", () => {
    const message = el(
      "<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><img alt='excalibur'/></body></html></message>",
    );
    assert.equal(checker.check(messageTexts(message), undefined), 0);
  });

  test("phrases match as consecutive words across whitespace and punctuation", () => {
    assert.equal(checker.check(["Operation\n  DAWN starts"], undefined), 0);
    assert.equal(checker.check(["operation at dawn"], undefined), -1);
  });

  test("a list bound to classifications applies only to those", () => {
    assert.equal(checker.check(["a draft"], "GREEN"), -1);
    assert.equal(checker.check(["a draft"], "red"), 1);
    assert.equal(checker.check(["a draft"], undefined), -1);
  });

  test("texts are bodies, subjects, XHTML-IM content and every other payload, not the stanza's own label", () => {
    const m = el(
      "<message><subject>s</subject><body>b</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>x<b>y</b></p></body></html><other>z</other><x xmlns='jabber:x:conference' reason='r'/><securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>m</displaymarking></securitylabel></message>",
    );
    assert.deepEqual(
      messageTexts(m).map((t) => words(t).join(" ")),
      ["s", "b", "x y", "z", "r"],
    );
  });
});
