import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compileFolding, foldMessage, isEmptyMessage, NS_CHATSTATES } from "../src/folding.js";
import { el } from "./fixtures.js";

const rules = (o: Partial<Parameters<typeof compileFolding>[0]> = {}) =>
  compileFolding({ chatStates: "pass", receipts: "pass", elements: [], ...o });

describe("foldMessage", () => {
  test("strips chat states and keeps the body", () => {
    const m = el(`<message><body>hi</body><active xmlns='${NS_CHATSTATES}'/></message>`);
    assert.deepEqual(foldMessage(m, rules({ chatStates: "strip" })), {
      outcome: "ok",
      stripped: [NS_CHATSTATES],
    });
    assert.equal(m.toString(), "<message><body>hi</body></message>");
  });

  test("a standalone chat state becomes an empty message", () => {
    const m = el(
      `<message><composing xmlns='${NS_CHATSTATES}'/><securitylabel xmlns='urn:xmpp:sec-label:0'/></message>`,
    );
    assert.equal(foldMessage(m, rules({ chatStates: "strip" })).outcome, "empty");
  });

  test("block refuses the whole message", () => {
    const m = el("<message><body>x</body><request xmlns='urn:xmpp:receipts'/></message>");
    assert.deepEqual(foldMessage(m, rules({ receipts: "block" })), {
      outcome: "blocked",
      reason: "receipt-blocked",
      ns: "urn:xmpp:receipts",
    });
  });

  test("configured elements match by namespace and optionally name", () => {
    const m = el(
      "<message><body>x</body><html xmlns='http://jabber.org/protocol/xhtml-im'><b/></html><x xmlns='jabber:x:oob'/></message>",
    );
    const r = foldMessage(
      m,
      rules({ elements: [{ ns: "http://jabber.org/protocol/xhtml-im", name: "html", action: "strip" }] }),
    );
    assert.equal(r.outcome, "ok");
    assert.equal(m.toString(), '<message><body>x</body><x xmlns="jabber:x:oob"/></message>');
  });

  test("a rule about the stanza namespace matches its elements however they write it", () => {
    const m = el(
      "<message><body>x</body><thread>t1</thread><thread xmlns='jabber:client'>t2</thread><subject xmlns='jabber:component:accept'>s</subject></message>",
    );
    const r = foldMessage(
      m,
      rules({
        elements: [
          { ns: "jabber:client", name: "thread", action: "strip" },
          { ns: "", name: "subject", action: "strip" },
        ],
      }),
    );
    assert.equal(r.outcome, "ok");
    assert.equal(m.toString(), "<message><body>x</body></message>");
  });

  test("nothing configured leaves the message untouched", () => {
    const m = el(`<message><active xmlns='${NS_CHATSTATES}'/></message>`);
    assert.deepEqual(foldMessage(m, rules()), { outcome: "ok", stripped: [] });
    assert.equal(m.children.length, 1);
  });

  test("a thread alone is inert, a subject is not", () => {
    assert.equal(isEmptyMessage(el("<message><thread>t</thread></message>")), true);
    assert.equal(isEmptyMessage(el("<message><subject>s</subject></message>")), false);
  });
});
