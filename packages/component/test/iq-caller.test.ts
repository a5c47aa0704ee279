import { test } from "node:test";
import assert from "node:assert/strict";
import { createIqCaller } from "../src/iq-caller.js";
import { parseElement, xml, type Element } from "../src/xml.js";
import { IqError, IqTimeoutError } from "../src/errors.js";

function caller(send: (stanza: Element) => Promise<void> = () => Promise.resolve()) {
  const sent: Element[] = [];
  const iqs = createIqCaller({
    send: (stanza) => {
      sent.push(stanza);
      return send(stanza);
    },
    timeoutMs: 50,
  });
  return { iqs, sent };
}

const ping = () => xml("iq", { type: "get", to: "b.test" }, xml("ping", { xmlns: "urn:xmpp:ping" }));

test("a request gets a random id and resolves with the result carrying it (RFC 6120 §8.2.3)", async () => {
  const { iqs, sent } = caller();
  const answer = iqs.request(ping());
  const id = sent[0]?.attrs.id ?? "";
  assert.match(id, /^c[0-9a-f]{16}$/);
  const result = parseElement(`<iq type='result' id='${id}' from='b.test' to='c.test'/>`);
  assert.equal(iqs.receive(result), true);
  assert.equal(await answer, result);
});

test("an error answer rejects with IqError naming the condition", async () => {
  const { iqs, sent } = caller();
  const answer = iqs.request(ping());
  iqs.receive(
    parseElement(
      `<iq type='error' id='${sent[0]?.attrs.id}' from='b.test'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    ),
  );
  await assert.rejects(answer, (e: unknown) => e instanceof IqError && e.condition === "item-not-found");
});

test("no answer in time is IqTimeoutError; a late answer is consumed and ignored", async () => {
  const { iqs, sent } = caller();
  await assert.rejects(iqs.request(ping(), 10), IqTimeoutError);
  assert.equal(iqs.receive(parseElement(`<iq type='result' id='${sent[0]?.attrs.id}'/>`)), true);
});

test("an answer from anyone but the addressee is not the answer (RFC 6120 §8.2.3)", async () => {
  const { iqs, sent } = caller();
  const answer = iqs.request(
    xml("iq", { type: "get", to: "Bob@B.test/Phone" }, xml("query", { xmlns: "jabber:iq:version" })),
  );
  const id = sent[0]?.attrs.id ?? "";
  const forged = parseElement(`<iq type='result' id='${id}' from='mallory@b.test/x'/>`);
  assert.equal(iqs.receive(forged), true);
  assert.equal(iqs.receive(parseElement(`<iq type='result' id='${id}'/>`)), true);
  assert.equal(iqs.receive(parseElement(`<iq type='result' id='${id}' from='bob@b.test'/>`)), true);
  // The real answer (the JID written in another case) still settles the request.
  const real = parseElement(`<iq type='result' id='${id}' from='bob@b.test/Phone'/>`);
  assert.equal(iqs.receive(real), true);
  assert.equal(await answer, real);
});

test("a send failure rejects the request", async () => {
  const { iqs } = caller(() => Promise.reject(new Error("queue full")));
  await assert.rejects(iqs.request(ping()), /queue full/);
});

test("only IQ results and errors are responses", () => {
  const { iqs } = caller();
  assert.equal(iqs.receive(parseElement(`<iq type='get' id='1'><q xmlns='x'/></iq>`)), false);
  assert.equal(iqs.receive(parseElement(`<message type='error' id='1'/>`)), false);
  assert.equal(iqs.receive(parseElement(`<iq type='result'/>`)), true);
});

test("rejectAll fails every waiting request", async () => {
  const { iqs } = caller();
  const a = iqs.request(ping());
  const b = iqs.request(ping());
  iqs.rejectAll(new Error("stopped"));
  await assert.rejects(a, /stopped/);
  await assert.rejects(b, /stopped/);
});
