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
import {
  askingServer,
  askingServerSessions,
  MAX_TOLD_SESSIONS,
  readSessionAddress,
  readSessions,
} from "../src/session-address.js";

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

test("a user's sessions: a bounded, well-formed list, or not known", () => {
  const list = (inner: string) =>
    parseElement(
      `<iq type='result'><sessions xmlns='${NS_GUARD}' jid='b@example.test'>${inner}</sessions></iq>`,
    );
  assert.deepEqual(readSessions(list("")), []);
  assert.deepEqual(
    readSessions(list("<session resource='d' ip='10.1.0.4'/><session resource='x' ip='nope'/>")),
    [
      { resource: "d", ip: "10.1.0.4" },
      { resource: "x", ip: undefined },
    ],
  );
  // No resource, the same resource twice, more than the bound, no list: not known.
  for (const bad of ["<session ip='10.1.0.4'/>", "<session resource='d'/><session resource='d'/>"])
    assert.equal(readSessions(list(bad)), undefined, bad);
  const many = Array.from({ length: MAX_TOLD_SESSIONS + 1 }, (_, i) => `<session resource='r${i}'/>`).join(
    "",
  );
  assert.equal(readSessions(list(many)), undefined);
  assert.equal(readSessions(parseElement("<iq type='result'/>")), undefined);
});

test("the sessions question: a full JID asks <session/>, then <sessions/> when there is no such session", async () => {
  const asked: Element[] = [];
  const replies: (Element | Error)[] = [
    new IqError("item-not-found"),
    parseElement(
      `<iq type='result'><sessions xmlns='${NS_GUARD}' jid='b@example.test'><session resource='d' ip='10.1.0.4'/></sessions></iq>`,
    ),
  ];
  const component = {
    logger: silentLogger(),
    request: async (iq: Element) => {
      asked.push(iq);
      const reply = replies.shift() ?? new IqTimeoutError(1);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as CordonComponent;
  const ask = askingServerSessions(component, 1234);
  assert.deepEqual(await ask("b@example.test/gone"), [{ resource: "d", ip: "10.1.0.4" }]);
  assert.deepEqual(
    asked.map((iq) => [iq.attrs.to, iq.getChildElements()[0]?.name, iq.getChildElements()[0]?.attrs.jid]),
    [
      ["example.test", "session", "b@example.test/gone"],
      ["example.test", "sessions", "b@example.test"],
    ],
  );
  // Any other error, or no answer: not known.
  assert.equal(await ask("b@example.test"), undefined);
  replies.push(new IqError("forbidden"));
  assert.equal(await ask("b@example.test/d"), undefined);
  assert.equal(await ask("example.test"), undefined, "not a user");
});
