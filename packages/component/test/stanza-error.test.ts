import { test } from "node:test";
import assert from "node:assert/strict";
import { errorReply, isErrorStanza, readStanzaError } from "../src/stanza-error.js";
import { NS_STANZAS } from "../src/namespaces.js";
import { parseElement } from "../src/xml.js";

const labelled = parseElement(
  `<message from='alice@a.test/r' to='room@muc.test' id='m1' type='groupchat'><body>TOP SECRET PLANS</body><securitylabel xmlns='urn:xmpp:sec-label:0'><displaymarking>SECRET</displaymarking></securitylabel></message>`,
);

test("an error reply swaps addresses, keeps the id and carries only the error", () => {
  const reply = errorReply(labelled, { condition: "forbidden", type: "cancel", text: "label not permitted" });
  assert.equal(reply.name, "message");
  assert.equal(reply.attrs.type, "error");
  assert.equal(reply.attrs.id, "m1");
  assert.equal(reply.attrs.from, "room@muc.test");
  assert.equal(reply.attrs.to, "alice@a.test/r");
  assert.deepEqual(
    reply.children.map((c) => (typeof c === "string" ? c : c.name)),
    ["error"],
  );
  const text = reply.toString();
  assert.ok(!text.includes("TOP SECRET"), text);
  assert.ok(!text.includes("securitylabel"), text);
  assert.ok(!text.includes("SECRET PLANS"), text);
  assert.deepEqual(readStanzaError(reply), {
    condition: "forbidden",
    type: "cancel",
    text: "label not permitted",
  });
});

test("the default error type follows RFC 6120 §8.3.3", () => {
  assert.equal(readStanzaError(errorReply(labelled, { condition: "service-unavailable" })).type, "cancel");
  assert.equal(readStanzaError(errorReply(labelled, { condition: "bad-request" })).type, "modify");
  assert.equal(readStanzaError(errorReply(labelled, { condition: "resource-constraint" })).type, "wait");
  const el = errorReply(labelled, { condition: "not-authorized" }).getChild("error");
  assert.equal(el?.getChild("not-authorized", NS_STANZAS)?.name, "not-authorized");
});

test("isErrorStanza recognises errors (which must never be answered)", () => {
  assert.equal(isErrorStanza(labelled), false);
  assert.equal(isErrorStanza(errorReply(labelled, { condition: "forbidden" })), true);
});

test("readStanzaError on a stanza without <error/> is undefined-condition", () => {
  assert.deepEqual(readStanzaError(labelled), { condition: "undefined-condition", type: "cancel" });
});
