// XEP-0355 namespace delegation through the deploy/ snippets, on each server, with a bare
// component: the server must hand the client's catalog IQ to the component and relay its reply.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, serverKinds } from "../src/server.js";
import { connectClient } from "../src/client.js";
import { xml } from "../src/xml.js";
import type { Element } from "../src/xml.js";
import type { XmppServer } from "../src/types.js";
import { IqErrorResponse } from "../src/errors.js";
import { connectComponent } from "./raw-component.js";
import type { RawComponent } from "./raw-component.js";

const NS_CATALOG = "urn:xmpp:sec-label:catalog:2";
const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
const CATALOG = { domain: "catalog.example.test", secret: "cat-secret" };

/** Answers disco#info with the label features and delegated IQs with a one-item catalog. */
function serveCatalog(component: RawComponent): { discoNodes: string[] } {
  const discoNodes: string[] = [];
  component.onStanza((el: Element) => {
    if (!el.is("iq")) return;
    const { id, from, to } = el.attrs;
    const query = el.getChild("query", NS_DISCO_INFO);
    if (query && el.attrs["type"] === "get") {
      discoNodes.push(query.attrs["node"] ?? "");
      component.send(
        xml(
          "iq",
          { type: "result", id, from: to, to: from },
          xml(
            "query",
            { xmlns: NS_DISCO_INFO, node: query.attrs["node"] },
            xml("identity", { category: "component", type: "generic", name: "catalog" }),
            xml("feature", { var: "urn:xmpp:sec-label:0" }),
            xml("feature", { var: NS_CATALOG }),
          ),
        ),
      );
      return;
    }
    // XEP-0355 §5: <delegation><forwarded><iq .../></forwarded></delegation>, namespace :1 or :2.
    const delegation = el.getChildElements().find((c) => c.name === "delegation");
    const inner = delegation?.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("iq");
    if (!delegation || !inner) return;
    const reply = xml(
      "iq",
      {
        xmlns: "jabber:client",
        type: "result",
        id: inner.attrs["id"],
        from: inner.attrs["to"],
        to: inner.attrs["from"],
      },
      xml(
        "catalog",
        { xmlns: NS_CATALOG, to: inner.getChild("catalog", NS_CATALOG)?.attrs["to"], name: "test" },
        xml("item", { selector: "UNCLASSIFIED", default: "true" }),
      ),
    );
    component.send(
      xml(
        "iq",
        { type: "result", id, from: to, to: from },
        xml(
          "delegation",
          { xmlns: delegation.getNS() },
          xml("forwarded", { xmlns: "urn:xmpp:forward:0" }, reply),
        ),
      ),
    );
  });
  return { discoNodes };
}

for (const kind of serverKinds()) {
  describe(`XEP-0355 delegation on ${kind}`, () => {
    let server: XmppServer;
    let component: RawComponent;

    before(async () => {
      server = await startServer(kind, {
        components: [CATALOG, { domain: "rooms.example.test", secret: "rooms-secret" }],
        delegations: [{ namespace: NS_CATALOG, component: CATALOG.domain }],
        users: [{ username: "alice", password: "alice-pw" }],
      });
      component = await connectComponent(server.componentPort, CATALOG.domain, CATALOG.secret);
    });

    after(async () => {
      component.close();
      await server.stop();
    });

    test("a catalog IQ to the user's own server is answered by the component", async () => {
      const served = serveCatalog(component);
      const alice = await connectClient(server, "alice", "alice-pw");
      try {
        // ejabberd activates the delegation only once the component has answered its disco#info
        // (docs/delegation.md §2), which races with this client: retry while the server still says no.
        let result: Element | undefined;
        for (let attempt = 0; attempt < 50 && !result; attempt++) {
          try {
            result = await alice.iq(
              xml(
                "iq",
                { type: "get", to: server.domain },
                xml("catalog", { xmlns: NS_CATALOG, to: server.domain }),
              ),
            );
          } catch (err) {
            if (!(err instanceof IqErrorResponse)) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        assert.ok(
          result,
          `no delegated answer; disco nodes asked: ${served.discoNodes.join(", ")}\n${server.logTail(30)}`,
        );
        assert.equal(result.attrs["from"], server.domain);
        const catalog = result.getChild("catalog", NS_CATALOG);
        assert.equal(catalog?.attrs["name"], "test");
        assert.equal(catalog?.getChild("item")?.attrs["selector"], "UNCLASSIFIED");
        if (kind === "ejabberd") {
          assert.ok(
            served.discoNodes.includes(`urn:xmpp:delegation:1::${NS_CATALOG}`),
            `ejabberd asked ${served.discoNodes.join(", ")}`,
          );
        }
        // Clients show labels only when their own server lists urn:xmpp:sec-label:0 (docs/delegation.md §4).
        const info = await alice.iq(
          xml("iq", { type: "get", to: server.domain }, xml("query", { xmlns: NS_DISCO_INFO })),
        );
        const features =
          info
            .getChild("query", NS_DISCO_INFO)
            ?.getChildren("feature")
            .map((f) => f.attrs["var"]) ?? [];
        assert.ok(
          features.includes("urn:xmpp:sec-label:0"),
          `server features: ${features.join(", ")}; disco nodes asked: ${served.discoNodes.join(", ")}`,
        );
      } finally {
        await alice.stop();
      }
    });
  });
}
