import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import { capsVerificationString, capsVerified } from "../src/service/caps-verification.js";

// XEP-0115 §5.2 (simple generation example).
const simple =
  parseElement(`<query xmlns='http://jabber.org/protocol/disco#info' node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`);

test("XEP-0115 §5.2: the simple example's verification string and ver", () => {
  assert.equal(
    capsVerificationString(simple),
    "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<",
  );
  assert.equal(capsVerified(simple, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0="), true);
});

test("an answer that does not hash to the announced ver is not verified (another client's ver, a feature added, an unknown hash)", () => {
  assert.equal(capsVerified(simple, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w="), false);
  const withLabels = parseElement(
    simple.toString().replace("</query>", "<feature var='urn:xmpp:sec-label:0'/></query>"),
  );
  assert.equal(capsVerified(withLabels, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0="), false);
  assert.equal(capsVerified(simple, "md5", "QgayPKawpkPSDYmwT/WM94uAlu0="), false);
  assert.equal(capsVerified(simple, undefined, "QgayPKawpkPSDYmwT/WM94uAlu0="), false);
});

test("XEP-0115 §5.3: extended forms are part of the string, sorted", () => {
  const complex = parseElement(`<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='software_version'><value>0.11</value></field>
  </x>
</query>`);
  assert.equal(
    capsVerificationString(complex),
    "client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<",
  );
  assert.equal(capsVerified(complex, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w="), true);
});
