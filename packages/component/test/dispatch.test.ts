import { test } from "node:test";
import assert from "node:assert/strict";
import { createDispatcher, type DispatchOptions } from "../src/dispatch.js";
import { createIqRouter } from "../src/iq-router.js";
import type { LinkState } from "../src/link-state.js";
import { parseElement, xml, type Element } from "../src/xml.js";
import { silentLogger } from "../src/logger.js";
import type { StanzaErrorSpec } from "../src/stanza-error.js";
import { stanzaLimits, type StanzaPart } from "../src/stanza-limits.js";
import { StanzaTooLargeError } from "../src/errors.js";

function setup(overrides: Partial<DispatchOptions> = {}) {
  const link: LinkState = { status: "online" };
  const sent: Element[] = [];
  const refused: { stanza: Element; spec: StanzaErrorSpec }[] = [];
  const seen: Element[] = [];
  const responses: Element[] = [];
  const oversize: StanzaPart[] = [];
  const router = createIqRouter();
  const dispatcher = createDispatcher({
    link,
    logger: silentLogger(),
    caller: {
      receive: (stanza) => {
        const response = stanza.attrs.type === "result" || stanza.attrs.type === "error";
        if (response) responses.push(stanza);
        return response;
      },
    },
    router,
    sender: {
      send: (stanza) => {
        sent.push(stanza);
        return Promise.resolve();
      },
      replyError: (stanza, spec) => {
        refused.push({ stanza, spec });
        return Promise.resolve();
      },
    },
    routeIqs: true,
    onStanza: (stanza) => seen.push(stanza),
    limits: stanzaLimits(),
    onOversize: (part) => oversize.push(part),
    ...overrides,
  });
  return { link, sent, refused, seen, responses, router, dispatcher, oversize };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

test("messages and presence reach every handler; a throwing or rejecting one is contained", async () => {
  const { dispatcher, seen } = setup();
  const got: string[] = [];
  dispatcher.onMessage(() => {
    throw new Error("bug");
  });
  dispatcher.onMessage((m) => void got.push(`m:${m.attrs.id}`));
  dispatcher.onPresence(() => Promise.reject(new Error("async bug")));
  dispatcher.onPresence((p) => void got.push(`p:${p.attrs.id}`));
  dispatcher.dispatch(parseElement(`<message id='1'/>`));
  dispatcher.dispatch(parseElement(`<presence id='2'/>`));
  await settle();
  assert.deepEqual(got, ["m:1", "p:2"]);
  assert.equal(seen.length, 2);
});

test("an IQ get is answered from the router: a result, or an error reply (RFC 6120 §8.2.3)", async () => {
  const { dispatcher, router, sent, refused } = setup();
  router.handle("urn:t", { get: () => xml("q", { xmlns: "urn:t" }, "ok") });
  dispatcher.dispatch(parseElement(`<iq type='get' id='a' from='u@d/r' to='c.test'><q xmlns='urn:t'/></iq>`));
  dispatcher.dispatch(parseElement(`<iq type='get' id='b' from='u@d/r' to='c.test'><q xmlns='urn:u'/></iq>`));
  await settle();
  assert.equal(
    sent[0]?.toString(),
    `<iq type="result" id="a" from="c.test" to="u@d/r"><q xmlns="urn:t">ok</q></iq>`,
  );
  assert.equal(refused[0]?.stanza.attrs.id, "b");
  assert.equal(refused[0]?.spec.condition, "service-unavailable");
});

test("IQ responses go to the caller, never to the router", async () => {
  const { dispatcher, responses, sent, refused } = setup();
  dispatcher.dispatch(parseElement(`<iq type='result' id='c1'/>`));
  dispatcher.dispatch(parseElement(`<iq type='error' id='c2'/>`));
  await settle();
  assert.equal(responses.length, 2);
  assert.equal(sent.length + refused.length, 0);
});

test("with routeIqs false an IQ get is only seen by stanza listeners", async () => {
  const { dispatcher, seen, sent, refused } = setup({ routeIqs: false });
  dispatcher.dispatch(parseElement(`<iq type='get' id='a' from='u@d/r' to='c.test'><q xmlns='urn:t'/></iq>`));
  await settle();
  assert.equal(seen.length, 1);
  assert.equal(sent.length + refused.length, 0);
});

// Issue 14: a stanza listener that threw ended dispatch, so an IQ went unanswered.
test("a throwing stanza listener is contained: handlers still run, a relayed IQ is answered", async () => {
  const thrower = () => {
    throw new Error("listener bug");
  };
  const routed = setup({ onStanza: thrower });
  routed.router.handle("urn:t", { get: () => xml("q", { xmlns: "urn:t" }) });
  const got: string[] = [];
  routed.dispatcher.onMessage((m) => void got.push(m.attrs.id ?? ""));
  routed.dispatcher.dispatch(parseElement(`<message id='m1'/>`));
  routed.dispatcher.dispatch(
    parseElement(`<iq type='get' id='a' from='u@d/r' to='c.test'><q xmlns='urn:t'/></iq>`),
  );
  await settle();
  assert.deepEqual(got, ["m1"]);
  assert.equal(routed.sent[0]?.attrs.type, "result");
  // IQs left to listeners (a relay): the requester is told, once, and nothing of the IQ is copied.
  const relayed = setup({ routeIqs: false, onStanza: thrower });
  relayed.dispatcher.dispatch(
    parseElement(`<iq type='set' id='b' from='u@d/r' to='c.test'><q xmlns='urn:t'>secret</q></iq>`),
  );
  relayed.dispatcher.dispatch(parseElement(`<iq type='result' id='c' from='u@d/r' to='c.test'/>`));
  await settle();
  assert.equal(relayed.refused.length, 1);
  assert.equal(relayed.refused[0]?.stanza.attrs.id, "b");
  assert.equal(relayed.refused[0]?.spec.condition, "internal-server-error");
});

test("a stanza nested too deep is refused with policy-violation before any listener", async () => {
  const { dispatcher, seen, sent, oversize } = setup();
  const depth = 50_000;
  dispatcher.dispatch(
    parseElement(
      `<message id='d' from='u@d/r' to='r@c'><body>x</body>${"<a>".repeat(depth)}${"</a>".repeat(depth)}</message>`,
    ),
  );
  await settle();
  assert.equal(seen.length, 0);
  assert.deepEqual(oversize, ["depth"]);
  assert.equal(
    sent[0]?.toString(),
    `<message type="error" id="d" from="r@c" to="u@d/r"><error type="modify"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">elements nested too deep (limit 64 levels)</text></error></message>`,
  );
});

test("nothing is dispatched once stopping", () => {
  const { dispatcher, link, seen } = setup();
  link.status = "stopping";
  dispatcher.dispatch(parseElement(`<message id='1'/>`));
  assert.equal(seen.length, 0);
});

test("the router is read at each IQ, so a wrapper installed later (delegation) is used", async () => {
  const { dispatcher, router, refused } = setup();
  router.route = () => Promise.resolve({ kind: "error", spec: { condition: "forbidden" } });
  dispatcher.dispatch(parseElement(`<iq type='get' id='a' from='u@d/r' to='c.test'><q xmlns='urn:t'/></iq>`));
  await settle();
  assert.equal(refused[0]?.spec.condition, "forbidden");
});

// Issue 14: a sender-chosen part over its bound reaches no handler and is echoed nowhere.
test("a stanza with a part over its bound is refused with policy-violation echoing nothing of it", async () => {
  const { dispatcher, router, sent, seen, oversize } = setup();
  let handled = 0;
  router.handle("http://jabber.org/protocol/disco#info", { get: () => void handled++ });
  dispatcher.onMessage(() => void handled++);
  const longId = ">".repeat(140_000);
  dispatcher.dispatch(
    xml(
      "message",
      { id: longId, from: "u@d/r", to: "room@c.test", type: "groupchat" },
      xml("body", {}, "hi"),
    ),
  );
  // An IQ error needs the id (RFC 6120 §8.1.3): an IQ whose id is too long goes unanswered.
  dispatcher.dispatch(
    xml(
      "iq",
      { type: "get", id: longId, from: "u@d/r", to: "c.test" },
      xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
    ),
  );
  dispatcher.dispatch(
    xml("message", { id: "m1", from: "u@d/r", to: "room@c.test" }, xml("body", {}, "<".repeat(70_000))),
  );
  await settle();
  assert.equal(handled, 0);
  assert.equal(seen.length, 0);
  assert.deepEqual(oversize, ["id", "id", "body"]);
  assert.equal(sent.length, 2);
  assert.equal(
    sent[0]?.toString(),
    `<message type="error" from="room@c.test" to="u@d/r"><error type="modify"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">id too large (limit 1024 bytes)</text></error></message>`,
  );
  // A bounded id is kept so the client can match the error (RFC 6120 §8.3.1); the body is not.
  assert.equal(sent[1]?.attrs.id, "m1");
  assert.equal(
    sent[1]?.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas"),
    "body too large (limit 65536 bytes)",
  );
  assert.ok(sent.every((s) => s.toString().length < 600));
});

test("an oversize error, result or unaddressed stanza is dropped; an oversize leave is honoured bare", async () => {
  const { dispatcher, sent, seen } = setup();
  const big = "&".repeat(200_000);
  dispatcher.dispatch(xml("message", { type: "error", from: "u@d/r", to: "c.test" }, xml("body", {}, big)));
  dispatcher.dispatch(xml("iq", { type: "result", id: "x", from: "u@d/r", to: "c.test" }, xml("q", {}, big)));
  dispatcher.dispatch(xml("message", { to: "c.test" }, xml("body", {}, big)));
  dispatcher.dispatch(
    xml(
      "presence",
      { type: "unavailable", id: "p1", from: "u@d/r", to: "room@c.test/nick" },
      xml("status", {}, big),
    ),
  );
  await settle();
  assert.equal(sent.length, 0);
  assert.deepEqual(
    seen.map((s) => s.toString()),
    [`<presence type="unavailable" from="u@d/r" to="room@c.test/nick" id="p1"/>`],
  );
});

test("real clients' stanzas pass: UUID ids, long-ish nicks, statuses and bodies", async () => {
  const { dispatcher, seen, oversize } = setup();
  dispatcher.dispatch(
    xml(
      "presence",
      {
        id: "9f0c6d3e-2a7b-4c1e-9d5f-0b8e7a6c5d4f".repeat(8),
        from: "u@d/r",
        to: `room@c.test/${"ü".repeat(300)}`,
      },
      xml("status", {}, "é".repeat(300)),
    ),
  );
  dispatcher.dispatch(
    xml(
      "message",
      { id: "x".repeat(300), from: "u@d/r", to: "room@c.test" },
      xml("body", {}, "a".repeat(60_000)),
    ),
  );
  await settle();
  assert.equal(seen.length, 2);
  assert.deepEqual(oversize, []);
});

test("an IQ result over the outgoing bound is replaced by a short resource-constraint error", async () => {
  const sent: Element[] = [];
  const refused: { stanza: Element; spec: StanzaErrorSpec }[] = [];
  const { dispatcher, router } = setup({
    sender: {
      send: (stanza) => {
        if (stanza.toString().length > 1000) return Promise.reject(new StanzaTooLargeError("iq", 2000, 1000));
        sent.push(stanza);
        return Promise.resolve();
      },
      replyError: (stanza, spec) => {
        refused.push({ stanza, spec });
        return Promise.resolve();
      },
    },
  });
  router.handle("urn:t", { get: () => xml("q", { xmlns: "urn:t" }, "x".repeat(2000)) });
  dispatcher.dispatch(parseElement(`<iq type='get' id='a' from='u@d/r' to='c.test'><q xmlns='urn:t'/></iq>`));
  await settle();
  assert.equal(sent.length, 0);
  assert.equal(refused[0]?.spec.condition, "resource-constraint");
});
