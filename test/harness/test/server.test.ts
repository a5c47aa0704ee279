import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startServer, serverKinds } from "../src/server.js";
import { connectClient } from "../src/client.js";
import { isListening } from "../src/ports.js";
import { xml } from "../src/xml.js";
import type { XmppServer } from "../src/types.js";
import { openStream, connectComponent } from "./raw-component.js";
import { InvalidConfigValueError, ServerStartError, UnknownServerKindError } from "../src/errors.js";

const COMPONENT = { domain: "comp.example.test", secret: "c0mp-s3cret" };

test("serverKinds reads CORDON_E2E_SERVERS, default both", () => {
  const saved = process.env["CORDON_E2E_SERVERS"];
  try {
    delete process.env["CORDON_E2E_SERVERS"];
    assert.deepEqual(serverKinds(), ["prosody", "ejabberd"]);
    process.env["CORDON_E2E_SERVERS"] = " ejabberd ,";
    assert.deepEqual(serverKinds(), ["ejabberd"]);
    process.env["CORDON_E2E_SERVERS"] = "prosody,openfire";
    assert.throws(() => serverKinds(), UnknownServerKindError);
  } finally {
    if (saved === undefined) delete process.env["CORDON_E2E_SERVERS"];
    else process.env["CORDON_E2E_SERVERS"] = saved;
  }
});

test("config values that could inject config are refused before anything starts", async () => {
  await assert.rejects(
    startServer("prosody", { components: [{ domain: "x.example.test", secret: 'a"; evil = "b' }] }),
    InvalidConfigValueError,
  );
  await assert.rejects(startServer("ejabberd", { extraDomains: ["bad\ndomain"] }), InvalidConfigValueError);
});

for (const kind of serverKinds()) {
  test(`${kind}: a start that times out fails with the log tail`, async () => {
    await assert.rejects(startServer(kind, { startTimeoutMs: 1 }), (e: unknown) => {
      assert.ok(e instanceof ServerStartError);
      assert.equal(e.code, "CORDON_HARNESS_START_FAILED");
      assert.match(e.message, /not ready after 1 ms[\s\S]*--- log tail ---/);
      return true;
    });
  });

  describe(`${kind} server`, () => {
    let server: XmppServer;

    before(async () => {
      server = await startServer(kind, {
        components: [COMPONENT],
        users: [
          { username: "alice", password: "alice-pw" },
          { username: "bob", password: "bob-pw" },
          // Needs nodeprep and a UTF-8 password: goes the slow, exact way on both servers.
          { username: "Erin.Example", password: 'pässwörd "quoted"' },
        ],
      });
      console.log(`# ${kind} start-up: ${server.startupMs} ms`);
    });

    after(async () => {
      const dir = server.dir;
      await server.stop();
      await server.stop(); // idempotent
      assert.equal(existsSync(dir), false, "temp dir removed on stop");
      assert.equal(await isListening(server.c2sPort), false, "c2s port closed after stop");
    });

    test("listens on loopback ports in a temp dir", () => {
      assert.equal(server.kind, kind);
      assert.equal(server.host, "127.0.0.1");
      assert.equal(server.domain, "example.test");
      assert.notEqual(server.c2sPort, server.componentPort);
      assert.ok(existsSync(server.dir));
      assert.ok(server.logTail(5).length > 0, "the log has content");
    });

    test("a message from one user reaches the other", async () => {
      const alice = await connectClient(server, "alice", "alice-pw");
      const bob = await connectClient(server, "bob", "bob-pw", "phone");
      try {
        assert.match(alice.jid, /^alice@example\.test\/.+/);
        assert.equal(bob.jid, "bob@example.test/phone");
        await alice.send(
          xml("message", { to: "bob@example.test", type: "chat", id: "m-1" }, xml("body", {}, "hello bob")),
        );
        const got = await bob.waitFor((el) => el.is("message") && el.attrs["id"] === "m-1");
        assert.equal(got.getChildText("body"), "hello bob");
        assert.equal(got.attrs["from"], alice.jid);
        assert.equal(
          alice.received.some((el) => el.is("message")),
          false,
          "the sender got no copy",
        );
      } finally {
        await alice.stop();
        await bob.stop();
      }
    });

    test("initial users with prepped names and non-ASCII passwords can log in", async () => {
      const erin = await connectClient(server, "erin.example", 'pässwörd "quoted"');
      assert.match(erin.jid, /^erin\.example@example\.test\//);
      await erin.stop();
    });

    test("a wrong password is refused", async () => {
      await assert.rejects(
        connectClient(server, "alice", "wrong"),
        (e: unknown) => e instanceof Error && "code" in e && e.code === "CORDON_HARNESS_CLIENT_CONNECT",
      );
    });

    test("the component port answers a stream header and accepts the declared component", async () => {
      const { socket, header } = await openStream(server.componentPort, COMPONENT.domain);
      socket.destroy();
      assert.equal(header.name, "stream:stream");
      assert.equal(header.attrs["xmlns"], "jabber:component:accept");
      assert.ok(header.attrs["id"], "the stream header carries an id for the handshake");
      // And the secret from the deploy/ snippet is the one that works.
      const component = await connectComponent(server.componentPort, COMPONENT.domain, COMPONENT.secret);
      const alice = await connectClient(server, "alice", "alice-pw");
      try {
        const arrived = new Promise((resolve) => component.onStanza((el) => el.is("message") && resolve(el)));
        await alice.send(
          xml("message", { to: `room@${COMPONENT.domain}`, id: "to-comp" }, xml("body", {}, "hi component")),
        );
        const el = (await arrived) as { attrs: Record<string, string | undefined> };
        assert.equal(el.attrs["from"], alice.jid);
        assert.equal(el.attrs["to"], `room@${COMPONENT.domain}`);
      } finally {
        component.close();
        await alice.stop();
      }
    });

    test("a wrong component secret is refused", async () => {
      await assert.rejects(connectComponent(server.componentPort, COMPONENT.domain, "not-the-secret"));
    });

    test("addUser works while the server runs", async () => {
      await server.addUser("carol", "carol-pw");
      const carol = await connectClient(server, "carol", "carol-pw");
      await carol.stop();
    });

    test("restart() keeps ports and users", async () => {
      const port = server.c2sPort;
      await server.restart();
      assert.equal(server.c2sPort, port);
      console.log(`# ${kind} restart start-up: ${server.startupMs} ms`);
      const alice = await connectClient(server, "alice", "alice-pw");
      const carol = await connectClient(server, "carol", "carol-pw");
      await alice.stop();
      await carol.stop();
    });

    test("kill() drops connections; restart() brings the server back", async () => {
      const alice = await connectClient(server, "alice", "alice-pw");
      const offline = new Promise<void>((resolve) => alice.xmpp.on("offline", resolve));
      const disconnected = new Promise<void>((resolve) => alice.xmpp.on("disconnect", resolve));
      await server.kill();
      assert.equal(await isListening(server.c2sPort), false);
      await Promise.race([offline, disconnected]);
      await alice.stop();
      await server.restart();
      const bob = await connectClient(server, "bob", "bob-pw");
      await bob.stop();
    });
  });
}
