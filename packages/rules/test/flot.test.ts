import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, type Element } from "@cordon/component";
import { addFlot, flotText, FLOT_TEXTS } from "../src/flot.js";

const stanzaNs = (el: Element) => (el.attrs.xmlns ?? "") === "" || el.attrs.xmlns === "jabber:client";

test("the marking is the first line of the body and the subject; XHTML-IM is removed", () => {
  assert.equal(flotText("SECRET", "hello"), "SECRET\nhello");
  assert.deepEqual([...FLOT_TEXTS], ["body", "subject"]);
  const m = parseElement(
    "<message><subject>plan</subject><body>go</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>go</body></html><body xmlns='urn:other'>x</body><thread>t</thread></message>",
  );
  assert.equal(addFlot(m, "TLP:AMBER", stanzaNs), true);
  assert.equal(m.getChildText("subject"), "TLP:AMBER\nplan");
  assert.equal(m.getChildText("body"), "TLP:AMBER\ngo");
  assert.equal(m.getChild("html"), undefined);
  assert.equal(m.getChild("body", "urn:other")?.getText(), "x", "not a stanza body");
  assert.equal(m.getChildText("thread"), "t");
  assert.equal(addFlot(parseElement("<message><body>a</body></message>"), "M", stanzaNs), false);
});
