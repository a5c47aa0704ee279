import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, xml } from "@cordon/component";
import { readCheck, verdictElement } from "../src/protocol.js";

test("a check names its origin and holds exactly one stanza, then the recipient's sessions", () => {
  const ok = readCheck(
    parseElement(
      `<check xmlns='urn:cordon:guard:0' origin='c2s'><message xmlns='jabber:client' to='b@x'/></check>`,
    ),
  );
  assert.equal(ok?.origin, "c2s");
  assert.equal(ok?.message.attrs.to, "b@x");
  assert.equal(
    readCheck(parseElement(`<check xmlns='urn:cordon:guard:0' origin='s2s'><presence/></check>`))?.message
      .name,
    "presence",
  );
  const sessions = readCheck(
    parseElement(
      `<check xmlns='urn:cordon:guard:0' origin='c2s' ip='10.0.0.1' offline='1'><message/><session resource='a' ip='10.0.0.2' labels='1'/><session resource='b'/></check>`,
    ),
  );
  assert.deepEqual(sessions?.sessions, [
    { resource: "a", ip: "10.0.0.2", labels: true },
    { resource: "b", ip: undefined, labels: false },
  ]);
  assert.equal(sessions?.senderIp, "10.0.0.1");
  assert.equal(sessions?.offline, true);
  assert.equal(sessions?.refresh, false);
  // A question asked ahead of a kept verdict's end (refresh='1' only) is told apart for the metrics.
  const refresh = (v: string) =>
    readCheck(
      parseElement(`<check xmlns='urn:cordon:guard:0' origin='c2s' refresh='${v}'><message/></check>`),
    )?.refresh;
  assert.equal(refresh("1"), true);
  for (const v of ["true", "0", "", " 1"]) assert.equal(refresh(v), false, v);
  for (const bad of [
    `<check xmlns='urn:cordon:guard:0'><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='local'><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'/>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message/><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><body/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message/><session/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message/><session resource=''/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message/><session resource='${"r".repeat(1024)}'/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='c2s' ip='${"1".repeat(65)}'><message/></check>`,
    `<check xmlns='urn:cordon:guard:0' origin='s2s'><message/>${"<session resource='r'/>".repeat(257)}</check>`,
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
