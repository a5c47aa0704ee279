import { test } from "node:test";
import assert from "node:assert/strict";
import { createDispatcher, type DispatchOptions } from "../src/dispatch.js";
import { createIqRouter } from "../src/iq-router.js";
import type { LinkState } from "../src/link-state.js";
import { parseElement, xml, type Element } from "../src/xml.js";
import { silentLogger } from "../src/logger.js";
import type { StanzaErrorSpec } from "../src/stanza-error.js";

function setup(overrides: Partial<DispatchOptions> = {}) {
  const link: LinkState = { status: "online" };
  const sent: Element[] = [];
  const refused: { stanza: Element; spec: StanzaErrorSpec }[] = [];
  const seen: Element[] = [];
  const responses: Element[] = [];
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
    ...overrides,
  });
  return { link, sent, refused, seen, responses, router, dispatcher };
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
