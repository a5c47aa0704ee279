// The session-address question (session-address.ts): what the catalog and the MUC ask a session's
// server, and what they take from the answer — one IP address, or nothing (fail closed:
// client-location.ts SessionLocations).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IqError,
  IqTimeoutError,
  NS_GUARD,
  parseElement,
  silentLogger,
  type CordonComponent,
  type Element,
} from "@cordon/component";
import { askingServer, readSessionAddress } from "../src/session-address.js";

const answer = (attrs: string) =>
  parseElement(`<iq type='result' from='example.test'><session xmlns='${NS_GUARD}' ${attrs}/></iq>`);

test("an answer gives one IP address, or nothing", () => {
  assert.equal(readSessionAddress(answer("jid='a@example.test/r' ip='10.9.0.7'")), "10.9.0.7");
  assert.equal(readSessionAddress(answer("ip='2001:db8::5'")), "2001:db8::5");
  assert.equal(readSessionAddress(answer("ip='::ffff:127.0.0.2'")), "::ffff:127.0.0.2");
  for (const bad of ["", "ip=''", "ip='host.example'", "ip='10.9.0.7/8'", `ip='${"1".repeat(70)}'`])
    assert.equal(readSessionAddress(answer(bad)), undefined, bad);
  // Another namespace, or no <session/>: nothing.
  assert.equal(
    readSessionAddress(parseElement("<iq type='result'><session xmlns='urn:other' ip='10.0.0.1'/></iq>")),
    undefined,
  );
  assert.equal(readSessionAddress(parseElement("<iq type='result'/>")), undefined);
});

/** A component whose request() answers with `reply` (an element, or an error to throw). */
function fake(reply: Element | Error, asked: Element[]): CordonComponent {
  return {
    logger: silentLogger(),
    request: async (iq: Element, timeoutMs?: number) => {
      asked.push(iq);
      assert.equal(timeoutMs, 1234);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as CordonComponent;
}

test("the question goes to the session's own server; errors and timeouts are 'not known'", async () => {
  const asked: Element[] = [];
  const ask = askingServer(fake(answer("ip='10.9.0.7'"), asked), 1234);
  assert.equal(await ask("alice@example.test/phone"), "10.9.0.7");
  assert.equal(asked[0]?.attrs.to, "example.test");
  assert.equal(asked[0]?.attrs.type, "get");
  assert.equal(asked[0]?.getChild("session", NS_GUARD)?.attrs.jid, "alice@example.test/phone");
  // A bare JID or a domain names no session: nothing asked.
  assert.equal(await ask("alice@example.test"), undefined);
  assert.equal(await ask("example.test"), undefined);
  assert.equal(asked.length, 1);
  for (const failure of [new IqError("item-not-found"), new IqError("forbidden"), new IqTimeoutError(1234)])
    assert.equal(await askingServer(fake(failure, []), 1234)("alice@example.test/phone"), undefined);
});
