import { test } from "node:test";
import assert from "node:assert/strict";
import { addressedStanza, rawStanzaName } from "../src/raw-stanza.js";

test("a message, presence or iq whose start tag names from and to is addressed", () => {
  for (const ok of [
    `<message from="c.test" to="a@b.test"><body/></message>`,
    `<presence to='a@b.test' from='c.test'/>`,
    `<iq\ttype="get"\nfrom="c.test"\rto="b.test" id="1"><ping xmlns="urn:xmpp:ping"/></iq>`,
  ])
    assert.ok(addressedStanza(ok), ok);
});

test("anything else is not", () => {
  for (const bad of [
    "",
    `<message to="a@b.test"/>`,
    `<message from="c.test"/>`,
    `<message xfrom="c.test" to="a@b.test"/>`,
    `<message from=c.test to="a@b.test"/>`,
    `<messages from="c.test" to="a@b.test"/>`,
    `<message><body from="c.test" to="a@b.test"/></message>`,
    `<message to="a@b.test"><x from="c.test"/></message>`,
    `<r from="c.test" to="a@b.test"/>`,
    `<message from="c.test" to="a@b.test"`,
    // Issue 14: an empty address is none (ejabberd closes the stream on it).
    `<message from="c.test" to="">`,
    `<message from='' to="a@b.test"/>`,
  ])
    assert.equal(addressedStanza(bad), false, bad);
});

test("the name of a refused stanza is its first element name", () => {
  assert.equal(rawStanzaName(`<message to="x"/>`), "message");
  assert.equal(rawStanzaName(`<r/>`), "r");
  assert.equal(rawStanzaName(`<>`), "?");
});
