// Every raw stanza builder escapes every value it writes: a hostile value (quotes, angle brackets,
// ampersands) never opens an element or closes an attribute, and the output parses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import {
  archiveResult,
  configChangeMessage,
  declineMessage,
  destroyPresence,
  invitationMessage,
  messageHead,
  occupantIdXml,
  stanzaIdXml,
  storedLabelXml,
  subjectMessage,
} from "../src/service/stanzas.js";

const evil = `a"b'c<d>e&f</x><inject/>`;

test("every builder escapes what it is given, and what it builds parses", () => {
  const built = [
    subjectMessage(evil, evil, evil),
    invitationMessage({
      room: evil,
      to: evil,
      id: evil,
      inviter: evil,
      reason: evil,
      password: evil,
      labelXml: "",
    }),
    declineMessage(evil, evil, evil, evil),
    configChangeMessage(evil, evil),
    destroyPresence({ from: evil, to: evil, reason: evil, alternate: evil }),
    `${messageHead({ from: evil, type: "chat", id: evil, xmlns: "jabber:client" })}>${occupantIdXml(evil)}${stanzaIdXml(evil, evil)}</message>`,
    archiveResult({
      room: evil,
      to: evil,
      id: evil,
      queryId: evil,
      resultId: evil,
      ts: 0,
      message: `${messageHead({ from: evil, type: "groupchat" })}/>`,
    }),
    storedLabelXml({ encoding: "ber", data: evil }),
  ];
  for (const s of built) {
    assert.doesNotMatch(s, /<inject\/>/, s);
    const element = parseElement(s);
    assert.equal(element.getChild("inject"), undefined);
  }
  const subject = parseElement(subjectMessage("r@m", "u@d/r", evil));
  assert.equal(subject.getChildText("subject"), evil, "character data round-trips");
  assert.equal(parseElement(declineMessage("r@m", evil, "d@x")).attrs.to, evil, "attributes round-trip");
  assert.equal(
    subjectMessage("r@m", "u@d", ""),
    '<message from="r@m" to="u@d" type="groupchat"><subject/></message>',
  );
});
