import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, serverKinds } from "../src/server.js";
import { connectClient } from "../src/client.js";
import type { TestClient } from "../src/client.js";
import { xml } from "../src/xml.js";
import type { XmppServer } from "../src/types.js";
import { ClientConnectError, ClientStoppedError, IqErrorResponse, WaitTimeoutError } from "../src/errors.js";

for (const kind of serverKinds()) {
  describe(`test clients on ${kind}`, () => {
    let server: XmppServer;
    let alice: TestClient;
    let bob: TestClient;

    before(async () => {
      server = await startServer(kind, {
        users: [
          { username: "alice", password: "a" },
          { username: "bob", password: "b" },
        ],
      });
      alice = await connectClient(server, "alice", "a");
      bob = await connectClient(server, "bob", "b");
    });

    after(async () => {
      await alice.stop();
      await bob.stop();
      await server.stop();
    });

    test("iq() resolves with the result (XEP-0199 ping to the server)", async () => {
      const result = await alice.iq(
        xml("iq", { type: "get", to: server.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })),
      );
      assert.equal(result.attrs["type"], "result");
      assert.equal(result.attrs["from"], server.domain);
    });

    test("iq() rejects with the error reply and its condition", async () => {
      const request = xml(
        "iq",
        { type: "get", to: server.domain },
        xml("query", { xmlns: "urn:example:nothing-here" }),
      );
      await assert.rejects(alice.iq(request), (e: unknown) => {
        assert.ok(e instanceof IqErrorResponse);
        assert.equal(e.code, "CORDON_HARNESS_IQ_ERROR");
        assert.equal(e.condition, "service-unavailable");
        return true;
      });
    });

    test("waitFor() also finds a stanza that arrived before the call, and takes it once", async () => {
      await alice.send(xml("message", { to: bob.jid, id: "early" }, xml("body", {}, "early")));
      await bob.waitFor((el) => el.attrs["id"] === "early");
      await alice.send(xml("message", { to: bob.jid, id: "early-2" }, xml("body", {}, "x")));
      await alice.iq(xml("iq", { type: "get", to: server.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      // Give bob's copy time to arrive through a round trip of bob's own.
      await bob.iq(xml("iq", { type: "get", to: server.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      const first = await bob.waitFor((el) => el.attrs["id"] === "early-2");
      assert.equal(first.getChildText("body"), "x");
      await assert.rejects(
        bob.waitFor((el) => el.attrs["id"] === "early-2", 200),
        WaitTimeoutError,
      );
    });

    test("waitFor() times out with a message naming the client and what it received", async () => {
      await assert.rejects(
        bob.waitFor((el) => el.attrs["id"] === "never", 150),
        (e: unknown) => {
          assert.ok(e instanceof WaitTimeoutError);
          assert.match(e.message, /bob@example\.test\/.+: no matching stanza within 150 ms \(\d+ received/);
          return true;
        },
      );
    });

    test("a throwing predicate counts as no match", async () => {
      await alice.send(xml("message", { to: bob.jid, id: "p" }, xml("body", {}, "p")));
      const got = await bob.waitFor((el) => {
        if (el.attrs["id"] !== "p") throw new Error("not this one");
        return true;
      });
      assert.equal(got.attrs["id"], "p");
    });

    test("stop() rejects pending waits", async () => {
      const carol = await connectClient(server, "alice", "a", "second");
      const pending = assert.rejects(
        carol.waitFor(() => false, 60_000),
        ClientStoppedError,
      );
      await carol.stop();
      await pending;
      await carol.stop();
    });
  });
}

for (const kind of serverKinds()) {
  test(`both SASL mechanisms log in on ${kind} (PLAIN default, SCRAM-SHA-1 on request)`, async () => {
    const server = await startServer(kind, { users: [{ username: "dave", password: "dave-pw" }] });
    try {
      for (const mechanism of ["PLAIN", "SCRAM-SHA-1"] as const) {
        const c = await connectClient(server, "dave", "dave-pw", undefined, { mechanism });
        assert.match(c.jid, /^dave@example\.test\//);
        await c.stop();
        await assert.rejects(
          connectClient(server, "dave", "nope", undefined, { mechanism }),
          ClientConnectError,
        );
      }
    } finally {
      await server.stop();
    }
  });
}
