import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createComponent } from "../src/component.js";
import {
  delegate,
  delegatedBy,
  parseDelegationNode,
  DelegationConfigError,
  NS_DELEGATION_1,
  NS_DELEGATION_2,
} from "../src/delegation.js";
import { NS_DISCO_INFO, NS_FORWARD } from "../src/namespaces.js";
import type { IqRequest } from "../src/iq-router.js";
import { stanzaError } from "../src/stanza-error-exception.js";
import { parseElement, xml, type Element } from "../src/xml.js";

const NS = "urn:xmpp:sec-label:catalog:2";

function setup() {
  const component = createComponent({
    service: "xmpp://127.0.0.1:1",
    domain: "catalog.example.test",
    secret: "s",
  });
  const seen: { request: IqRequest; server: string | undefined }[] = [];
  component.disco({
    info: ({ node }) =>
      node ? undefined : { identities: [{ category: "component", type: "generic" }], features: ["urn:own"] },
  });
  delegate(
    component,
    NS,
    {
      get(request) {
        seen.push({ request, server: delegatedBy(request) });
        if (request.payload.attrs.to === "nobody@example.test") throw stanzaError("item-not-found");
        return xml("catalog", { xmlns: NS, to: request.payload.attrs.to }, xml("item", {}, "x"));
      },
    },
    { features: ["urn:xmpp:sec-label:0", NS], servers: ["example.test"] },
  );
  return { component, seen };
}

const wrapped = (ns: string, inner: string, from = "example.test") =>
  parseElement(
    `<iq id='S' to='catalog.example.test' from='${from}' type='set'><delegation xmlns='${ns}'><forwarded xmlns='${NS_FORWARD}'>${inner}</forwarded></delegation></iq>`,
  );

const innerOf = (payload: Element | undefined): Element | undefined =>
  payload?.getChild("forwarded", NS_FORWARD)?.getChild("iq");

describe("XEP-0355 delegation", () => {
  for (const ns of [NS_DELEGATION_1, NS_DELEGATION_2]) {
    test(`${ns}: the inner request reaches the handler with the real requester and is wrapped back`, async () => {
      const { component, seen } = setup();
      const outcome = await component.iq.route(
        wrapped(
          ns,
          `<iq id='X' from='alice@example.test/res' type='get' to='example.test' xmlns='jabber:client'><catalog to='example.test' xmlns='${NS}'/></iq>`,
        ),
      );
      assert.equal(outcome.kind, "result");
      const payload = outcome.kind === "result" ? outcome.payload : undefined;
      assert.equal(payload?.name, "delegation");
      assert.equal(payload?.attrs.xmlns, ns);
      const inner = innerOf(payload);
      assert.ok(inner);
      assert.deepEqual(
        {
          xmlns: inner.attrs.xmlns,
          type: inner.attrs.type,
          id: inner.attrs.id,
          from: inner.attrs.from,
          to: inner.attrs.to,
        },
        {
          xmlns: "jabber:client",
          type: "result",
          id: "X",
          from: "example.test",
          to: "alice@example.test/res",
        },
      );
      assert.equal(inner.getChild("catalog", NS)?.attrs.to, "example.test");
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.request.from, "alice@example.test/res");
      assert.equal(seen[0]?.request.to, "example.test");
      assert.equal(seen[0]?.request.id, "X");
      assert.equal(seen[0]?.server, "example.test");
    });
  }

  test("a direct request reaches the same handler and is not marked delegated", async () => {
    const { component, seen } = setup();
    const outcome = await component.iq.route(
      parseElement(
        `<iq id='d1' type='get' from='alice@example.test/r' to='catalog.example.test'><catalog xmlns='${NS}' to='example.test'/></iq>`,
      ),
    );
    assert.equal(outcome.kind, "result");
    assert.equal(seen[0]?.server, undefined);
    assert.equal(seen[0]?.request.to, "catalog.example.test");
  });

  test("an inner error is wrapped as an error iq without the request payload", async () => {
    const { component } = setup();
    const outcome = await component.iq.route(
      wrapped(
        NS_DELEGATION_2,
        `<iq id='X2' from='alice@example.test/res' type='get' to='example.test' xmlns='jabber:client'><catalog to='nobody@example.test' xmlns='${NS}'/></iq>`,
      ),
    );
    assert.equal(outcome.kind, "result");
    const inner = innerOf(outcome.kind === "result" ? outcome.payload : undefined);
    assert.equal(inner?.attrs.type, "error");
    assert.equal(inner?.attrs.xmlns, "jabber:client");
    assert.equal(inner?.attrs.from, "example.test");
    assert.equal(inner?.attrs.to, "alice@example.test/res");
    assert.ok(inner?.getChild("error")?.getChild("item-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    assert.equal(inner?.getChild("catalog"), undefined);
  });

  test("a request without inner `to` is answered without `from` and routed as addressed to the server", async () => {
    const { component, seen } = setup();
    const outcome = await component.iq.route(
      wrapped(
        NS_DELEGATION_1,
        `<iq id='X3' from='alice@example.test/res' type='get'><catalog xmlns='${NS}'/></iq>`,
      ),
    );
    const inner = innerOf(outcome.kind === "result" ? outcome.payload : undefined);
    assert.equal(inner?.attrs.type, "result");
    assert.equal(inner?.attrs.from, undefined);
    assert.equal(seen[0]?.request.to, "example.test");
  });

  test("only a configured server may wrap requests", async () => {
    const { component, seen } = setup();
    for (const from of ["evil.test", "mallory@example.test", "example.test/res"]) {
      const outcome = await component.iq.route(
        wrapped(
          NS_DELEGATION_2,
          `<iq id='X' from='alice@example.test/r' type='get' to='example.test'><catalog xmlns='${NS}'/></iq>`,
          from,
        ),
      );
      assert.equal(outcome.kind === "error" && outcome.spec.condition, "forbidden", from);
    }
    assert.equal(seen.length, 0);
  });

  test("malformed delegations and non-delegated inner namespaces are refused", async () => {
    const { component, seen } = setup();
    const bad = await component.iq.route(
      parseElement(
        `<iq id='S' from='example.test' to='catalog.example.test' type='set'><delegation xmlns='${NS_DELEGATION_2}'/></iq>`,
      ),
    );
    assert.equal(bad.kind === "error" && bad.spec.condition, "bad-request");
    const elsewhere = await component.iq.route(
      wrapped(
        NS_DELEGATION_2,
        `<iq id='X' from='alice@example.test/r' type='get' to='other.test'><catalog xmlns='${NS}'/></iq>`,
      ),
    );
    assert.equal(elsewhere.kind === "error" && elsewhere.spec.condition, "bad-request");
    const other = await component.iq.route(
      wrapped(
        NS_DELEGATION_2,
        `<iq id='X' from='alice@example.test/r' type='get' to='example.test'><query xmlns='${NS_DISCO_INFO}'/></iq>`,
      ),
    );
    const inner = innerOf(other.kind === "result" ? other.payload : undefined);
    assert.equal(inner?.attrs.type, "error");
    assert.ok(
      inner?.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas"),
    );
    // A delegation nested inside a delegation is not routed either.
    const nested = await component.iq.route(
      wrapped(
        NS_DELEGATION_2,
        `<iq id='X' from='alice@example.test/r' type='set' to='example.test'><delegation xmlns='${NS_DELEGATION_2}'/></iq>`,
      ),
    );
    assert.equal(innerOf(nested.kind === "result" ? nested.payload : undefined)?.attrs.type, "error");
    assert.equal(seen.length, 0);
  });

  test("disco#info of the delegation nodes lists the features; other nodes reach the component's resolver", async () => {
    const { component } = setup();
    for (const node of [
      `${NS_DELEGATION_1}::${NS}`,
      `${NS_DELEGATION_1}:bare:${NS}`,
      `${NS_DELEGATION_2}::${NS}`,
      `${NS_DELEGATION_2}:bare:${NS}`,
    ]) {
      const outcome = await component.iq.route(
        parseElement(
          `<iq id='i' type='get' from='example.test' to='catalog.example.test'><query xmlns='${NS_DISCO_INFO}' node='${node}'/></iq>`,
        ),
      );
      assert.equal(outcome.kind, "result", node);
      const query = outcome.kind === "result" ? outcome.payload : undefined;
      assert.equal(query?.attrs.node, node);
      const features = query?.getChildren("feature").map((f) => f.attrs.var) ?? [];
      assert.ok(features.includes("urn:xmpp:sec-label:0") && features.includes(NS), node);
    }
    const unknownNs = await component.iq.route(
      parseElement(
        `<iq id='i' type='get' from='example.test' to='catalog.example.test'><query xmlns='${NS_DISCO_INFO}' node='${NS_DELEGATION_2}::urn:other'/></iq>`,
      ),
    );
    assert.equal(unknownNs.kind === "error" && unknownNs.spec.condition, "item-not-found");
    const own = await component.iq.route(
      parseElement(
        `<iq id='i' type='get' from='a@example.test/r' to='catalog.example.test'><query xmlns='${NS_DISCO_INFO}'/></iq>`,
      ),
    );
    assert.ok(
      own.kind === "result" && own.payload?.getChildren("feature").some((f) => f.attrs.var === "urn:own"),
    );
  });

  test("parseDelegationNode and configuration errors", () => {
    assert.deepEqual(parseDelegationNode(`${NS_DELEGATION_2}::urn:a:b`), {
      version: NS_DELEGATION_2,
      namespace: "urn:a:b",
      bare: false,
    });
    assert.deepEqual(parseDelegationNode(`${NS_DELEGATION_1}:bare:urn:a`), {
      version: NS_DELEGATION_1,
      namespace: "urn:a",
      bare: true,
    });
    assert.equal(parseDelegationNode("urn:xmpp:delegation:3::urn:a"), undefined);
    assert.equal(parseDelegationNode(`${NS_DELEGATION_2}::`), undefined);
    const component = createComponent({ service: "xmpp://127.0.0.1:1", domain: "c.test", secret: "s" });
    assert.throws(() => delegate(component, NS, {}, { features: [], servers: [] }), DelegationConfigError);
    assert.throws(
      () => delegate(component, NS, {}, { features: [], servers: ["u@d.test"] }),
      DelegationConfigError,
    );
  });
});
