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

test("markShownTexts: invitation reasons, form titles and an OOB link's description get the marking (issue 15)", async () => {
  const { markShownTexts, needsMarkingBody } = await import("../src/flot.js");
  const m = parseElement(
    "<message><x xmlns='jabber:x:oob'><url>https://x.test/f</url><desc>plan</desc></x><x xmlns='jabber:x:data' type='form'><field var='a'/></x><x xmlns='http://jabber.org/protocol/muc#user'><invite to='a@b'><reason>why</reason></invite></x></message>",
  );
  markShownTexts(m, "SECRET");
  assert.equal(m.getChild("x", "jabber:x:oob")?.getChildText("desc"), "SECRET\nplan");
  assert.equal(m.getChild("x", "jabber:x:data")?.getChildText("title"), "SECRET");
  assert.equal(
    m.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("invite")?.getChildText("reason"),
    "SECRET\nwhy",
  );
  const bare = parseElement("<message><x xmlns='jabber:x:oob'><url>https://x.test/f</url></x></message>");
  markShownTexts(bare, "SECRET");
  assert.equal(bare.getChild("x", "jabber:x:oob")?.getChildText("desc"), "SECRET", "added when absent");
  // A body-less message that shows something needs a marking body; chat states and markers do not.
  assert.equal(needsMarkingBody(bare, stanzaNs), true);
  assert.equal(
    needsMarkingBody(
      parseElement("<message><reactions xmlns='urn:xmpp:reactions:0' id='x'/></message>"),
      stanzaNs,
    ),
    true,
  );
  assert.equal(
    needsMarkingBody(
      parseElement(
        "<message><active xmlns='http://jabber.org/protocol/chatstates'/><displayed xmlns='urn:xmpp:chat-markers:0' id='x'/></message>",
      ),
      stanzaNs,
    ),
    false,
  );
  assert.equal(
    needsMarkingBody(parseElement("<message><body>b</body><x xmlns='urn:x'/></message>"), stanzaNs),
    false,
  );
});

test("markShownTexts marks copies: a message sharing its children with another leaves that one unchanged (adv42)", async () => {
  const { markShownTexts } = await import("../src/flot.js");
  const original = parseElement(
    "<message><body>b</body><x xmlns='jabber:x:oob'><url>u</url><desc>plan</desc></x><x xmlns='jabber:x:data' type='form'><instructions>i</instructions></x><x xmlns='http://jabber.org/protocol/muc#user'><invite to='a@b'><reason>why</reason></invite><decline to='c@d'/><status code='1'/></x><x xmlns='jabber:x:conference' jid='r@m' reason='come'/></message>",
  );
  const before = original.toString();
  // A copy as the relay makes it (@cordon/relay copy.ts): its own child list, the children shared.
  const copy = parseElement("<message/>");
  copy.children = original.children.slice();
  markShownTexts(copy, "M");
  assert.equal(original.toString(), before);
  const muc = copy.getChild("x", "http://jabber.org/protocol/muc#user");
  assert.equal(muc?.getChild("invite")?.getChildText("reason"), "M\nwhy");
  assert.equal(muc?.getChild("decline")?.getChildText("reason"), "M", "added when absent");
  assert.equal(
    muc?.getChild("status"),
    original.getChild("x", "http://jabber.org/protocol/muc#user")?.getChild("status"),
  );
  assert.equal(copy.getChild("x", "jabber:x:conference")?.attrs.reason, "M\ncome");
  assert.equal(copy.getChild("x", "jabber:x:data")?.getChildText("instructions"), "M\ni");
  assert.equal(copy.getChild("x", "jabber:x:data")?.getChildText("title"), "M");
  assert.equal(copy.getChild("x", "jabber:x:oob")?.getChildText("desc"), "M\nplan");
  assert.equal(copy.getChild("body"), original.getChild("body"), "what is not marked stays shared");
});
