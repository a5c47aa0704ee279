import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJid, bareJid, fullJid, toBare } from "../src/jid.js";

test("parses and folds case of local and domain parts, keeps the resource", () => {
  const jid = parseJid("Alice@Example.TEST/Phone X");
  assert.deepEqual(jid, { local: "alice", domain: "example.test", resource: "Phone X" });
  assert.equal(bareJid(jid!), "alice@example.test");
  assert.equal(fullJid(jid!), "alice@example.test/Phone X");
  assert.equal(toBare("room@muc.test/nick/with/slashes"), "room@muc.test");
  assert.equal(parseJid("muc.test")?.local, "");
  assert.equal(toBare("Example.TEST."), "example.test");
});

test("one spelling per JID: decomposed and composed Unicode, upper and lower case (RFC 7622 §3.3.2)", () => {
  // What ejabberd 23.01 puts into stanzas for a user who logged in as "rene\u0301" (decomposed).
  assert.equal(toBare("rene\u0301@example.test/r\u00e9s"), "ren\u00e9@example.test");
  assert.equal(toBare("REN\u00c9@EXAMPLE.TEST"), "ren\u00e9@example.test");
  assert.equal(toBare("RENE\u0301@exe\u0301mple.test"), "ren\u00e9@ex\u00e9mple.test");
  // The resource keeps its case; only its Unicode form is normalised (RFC 7622 §3.4.2).
  assert.equal(parseJid("a@b.test/Re\u0301s")?.resource, "R\u00e9s");
  // Fullwidth forms are width-mapped (RFC 8265 §3.3.2 rule 1), as the servers' nodeprep does.
  assert.equal(toBare("\uff21lice@example.test"), "alice@example.test");
});

test("rejects malformed JIDs", () => {
  for (const bad of ["", "@d.test", "a@", "a@b@c", "a@d.test/", "a b@", "x@has space", "a@."]) {
    assert.equal(parseJid(bad), undefined, bad);
  }
  assert.equal(toBare(undefined), undefined);
  // A localpart that folds to nothing is no localpart: not the domain JID.
  assert.equal(toBare("\u00ad@example.test"), undefined);
  assert.equal(toBare("\u200b\ufeff@example.test/r"), undefined);
  assert.equal(toBare("eve\uff20example.test@evil.test"), undefined);
  assert.equal(toBare("eve@evil.test\uff0fexample.test"), undefined);
});

// Issue 19: parsed JIDs are remembered by their exact text, bounded in bytes.
test("the memo of parsed JIDs: exact texts, shared frozen results, bounded in bytes", async () => {
  const { jidMemoBytes, JID_MEMO_BYTES } = await import("../src/jid.js");
  const a = parseJid("Alice@Example.test/r1");
  const b = parseJid("Alice@Example.test/r2"); // one character apart: its own entry
  assert.ok(a && b);
  assert.notEqual(a, b);
  assert.equal(a.resource, "r1");
  assert.equal(b.resource, "r2");
  assert.equal(parseJid("Alice@Example.test/r1"), a, "the same text: the same result");
  assert.ok(Object.isFrozen(a));
  assert.throws(() => {
    (a as { resource: string }).resource = "x";
  });
  // Many long distinct JIDs never take it past its budget.
  for (let i = 0; i < 2000; i++) {
    const jid = parseJid(`user${i}@example.test/${"r".repeat(1000)}${i}`);
    assert.equal(jid?.local, `user${i}`);
    assert.ok(jidMemoBytes() <= JID_MEMO_BYTES, `${jidMemoBytes()}`);
  }
  // Malformed texts are remembered as such.
  assert.equal(parseJid("a@"), undefined);
  assert.equal(parseJid("a@"), undefined);
});

// Session 13 (relay13): the bare JID text of a parsed JID is made once and given again.
test("bareJid: the same text as local@domain, made once per parsed JID; a JID a caller made is read as it is now", () => {
  for (const text of ["Alice@Example.test/res", "example.test", "a@b.test", "ⅸ@b.test/x", "b.test/r"]) {
    const jid = parseJid(text)!;
    const expected = jid.local ? `${jid.local}@${jid.domain}` : jid.domain;
    assert.equal(bareJid(jid), expected);
    assert.equal(bareJid(jid), expected);
    assert.equal(toBare(text), expected);
  }
  const mutable = { local: "a", domain: "b.test", resource: "" };
  assert.equal(bareJid(mutable), "a@b.test");
  mutable.local = "c";
  assert.equal(bareJid(mutable), "c@b.test");
});
