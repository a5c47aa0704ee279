import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, xml } from "@cordon/component";
import { readCheck, verdictElement } from "../src/protocol.js";

test("a check names its origin and holds exactly one message", () => {
  const ok = readCheck(
    parseElement(
      `<check xmlns='urn:cordon:guard:0' origin='c2s'><message xmlns='jabber:client' to='b@x'/></check>`,
    ),
  );
  assert.equal(ok?.origin, "c2s");
  assert.equal(ok?.message.attrs.to, "b@x");
  for (const bad of [
    `<check xmlns='urn:cordon:guard:0'><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='local'><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'/>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message/><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><presence/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message xmlns='jabber:server:other'/></check>`,
  ])
    assert.equal(readCheck(parseElement(bad)), undefined, bad);
});

test("verdicts carry the message or error in the client namespace", () => {
  assert.equal(
    verdictElement({
      action: "deliver",
      message: xml("message", { to: "b@x" }, xml("body", {}, "hi")),
    }).toString(),
    `<verdict xmlns="urn:cordon:guard:0" action="deliver"><message to="b@x" xmlns="jabber:client"><body>hi</body></message></verdict>`,
  );
  assert.equal(
    verdictElement({ action: "drop" }).toString(),
    `<verdict xmlns="urn:cordon:guard:0" action="drop"/>`,
  );
  assert.equal(
    verdictElement({ action: "refuse", error: xml("message", { type: "error" }) }).toString(),
    `<verdict xmlns="urn:cordon:guard:0" action="refuse"><message type="error" xmlns="jabber:client"/></verdict>`,
  );
});
