import { test } from "node:test";
import assert from "node:assert/strict";
import { createIqRouter, iqResult } from "../src/iq-router.js";
import { stanzaError } from "../src/stanza-error-exception.js";
import { parseElement, xml } from "../src/xml.js";

const iq = (body: string, type = "get") =>
  parseElement(`<iq type='${type}' id='q1' from='u@d.test/r' to='c.d.test'>${body}</iq>`);

test("routes by payload namespace and type", async () => {
  const router = createIqRouter();
  router.handle("urn:test:a", { get: () => xml("a", { xmlns: "urn:test:a" }, "got"), set: () => undefined });
  const got = await router.route(iq("<a xmlns='urn:test:a'/>"));
  assert.equal(got.kind, "result");
  assert.equal(got.kind === "result" && got.payload?.getText(), "got");
  assert.deepEqual(await router.route(iq("<a xmlns='urn:test:a'/>", "set")), { kind: "result" });
});

test("unknown namespaces and missing types are service-unavailable", async () => {
  const router = createIqRouter();
  router.handle("urn:test:a", { get: () => undefined });
  const unknown = await router.route(iq("<b xmlns='urn:test:b'/>"));
  assert.equal(unknown.kind === "error" && unknown.spec.condition, "service-unavailable");
  const noSet = await router.route(iq("<a xmlns='urn:test:a'/>", "set"));
  assert.equal(noSet.kind === "error" && noSet.spec.condition, "service-unavailable");
});

test("zero or several payloads are bad-request", async () => {
  const router = createIqRouter();
  const none = await router.route(iq(""));
  assert.equal(none.kind === "error" && none.spec.condition, "bad-request");
  const two = await router.route(iq("<a xmlns='x'/><b xmlns='y'/>"));
  assert.equal(two.kind === "error" && two.spec.condition, "bad-request");
});

test("an IQ without id is bad-request and reaches no handler", async () => {
  const router = createIqRouter();
  let ran = false;
  router.handle("urn:test:a", { set: () => void (ran = true) });
  const outcome = await router.route(
    parseElement(`<iq type='set' from='u@d.test/r' to='c.d.test'><a xmlns='urn:test:a'/></iq>`),
  );
  assert.equal(outcome.kind === "error" && outcome.spec.condition, "bad-request");
  assert.equal(ran, false);
});

test("a handler that throws yields internal-server-error with the cause kept for the log", async () => {
  const router = createIqRouter();
  router.handle("urn:test:a", {
    get: () => {
      throw new TypeError("boom");
    },
  });
  const out = await router.route(iq("<a xmlns='urn:test:a'/>"));
  assert.equal(out.kind, "error");
  assert.equal(out.kind === "error" && out.spec.condition, "internal-server-error");
  assert.ok(out.kind === "error" && out.cause instanceof TypeError);
});

test("a handler may refuse with a chosen stanza error", async () => {
  const router = createIqRouter();
  router.handle("urn:test:a", {
    get: async () => {
      throw stanzaError("forbidden", "cancel", "no");
    },
  });
  const out = await router.route(iq("<a xmlns='urn:test:a'/>"));
  assert.deepEqual(out, { kind: "error", spec: { condition: "forbidden", type: "cancel", text: "no" } });
});

test("handlers can be restricted to one element name", async () => {
  const router = createIqRouter();
  router.handle("urn:test:a", { get: () => xml("x", {}) }, "one");
  const other = await router.route(iq("<two xmlns='urn:test:a'/>"));
  assert.equal(other.kind, "error");
  assert.equal((await router.route(iq("<one xmlns='urn:test:a'/>"))).kind, "result");
});

test("iqResult answers from the addressee to the requester with the same id", () => {
  const result = iqResult(iq("<a xmlns='x'/>"));
  assert.equal(result.toString(), `<iq type="result" id="q1" from="c.d.test" to="u@d.test/r"/>`);
});
