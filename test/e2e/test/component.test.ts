// The component runtime against real Prosody and real ejabberd, driven by real clients
// (@xmpp/client) over loopback. Every case runs on both servers.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import {
  startServer,
  serverKinds,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import {
  createExampleComponent,
  createComponent,
  AuthenticationFailedError,
  type CordonComponent,
} from "@cordon/component";
import { startCli, untilOnline } from "../src/cordon-process.js";

const NS_INFO = "http://jabber.org/protocol/disco#info";

for (const kind of serverKinds()) {
  describe(`component runtime on ${kind}`, () => {
    const domain = `${kind}.test`;
    const echoDomain = `echo.${domain}`;
    const spareDomain = `spare.${domain}`;
    const secret = "echo-secret";
    let server: XmppServer;
    let component: CordonComponent;
    let alice: TestClient;

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [
          { domain: echoDomain, secret },
          { domain: spareDomain, secret: "spare-secret" },
        ],
        users: [{ username: "alice", password: "alice-pw" }],
      });
      component = createExampleComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: echoDomain,
        secret,
        reconnect: { initialMs: 100, maxMs: 1000 },
        // At the servers' own 512 KiB: bodies up to 128 KiB (the default 256 KiB allows 64 KiB).
        maxStanzaBytes: 524_288,
      });
      component.handleIq("urn:cordon:test:boom", {
        get: () => {
          throw new Error("deliberate handler bug");
        },
      });
      await component.start();
      alice = await connectClient(server, "alice", "alice-pw");
    });

    after(async () => {
      await alice?.stop();
      await component?.stop();
      await server?.stop();
    });

    test(`[${kind}] a real client gets the component's disco#info`, async () => {
      const result = await alice.iq(
        xml("iq", { type: "get", to: echoDomain }, xml("query", { xmlns: NS_INFO })),
      );
      const query = result.getChild("query", NS_INFO);
      assert.ok(query, result.toString());
      const identity = query.getChild("identity");
      assert.equal(identity?.attrs.category, "component");
      const features = query.getChildren("feature").map((f) => f.attrs.var);
      assert.ok(features.includes(NS_INFO));
      assert.ok(features.includes("urn:xmpp:ping"));
    });

    test(`[${kind}] a message round-trips through the component`, async () => {
      await alice.send(
        xml("message", { to: echoDomain, type: "chat", id: "rt1" }, xml("body", {}, "hello cordon")),
      );
      const echo = await alice.waitFor((el) => el.name === "message" && el.attrs.id === "rt1");
      assert.equal(echo.getChildText("body"), "hello cordon");
      assert.equal(echo.attrs.from, echoDomain);
    });

    test(`[${kind}] multibyte UTF-8 crossing TCP chunk boundaries survives both ways`, async () => {
      // ~125 KB of 4-byte emoji and 3-byte CJK: larger than one TCP read (64 KiB), under the body
      // bound of this component (128 KiB: maxStanzaBytes 512 KiB).
      const body = `${"\u{1F512}\u{1F600}\u6A5F\u5BC6\u00e9".repeat(7_800)}|end`;
      await alice.send(xml("message", { to: echoDomain, type: "chat", id: "utf8" }, xml("body", {}, body)));
      const echo = await alice.waitFor((el) => el.name === "message" && el.attrs.id === "utf8", 15_000);
      const got = echo.getChildText("body") ?? "";
      assert.equal(got.length, body.length);
      assert.ok(got === body, "the echoed body differs from what was sent");
      assert.ok(!got.includes("\uFFFD"));
    });

    test(`[${kind}] a throwing IQ handler answers internal-server-error and the component keeps running`, async () => {
      await assert.rejects(
        alice.iq(
          xml(
            "iq",
            { type: "get", to: echoDomain },
            xml("boom", { xmlns: "urn:cordon:test:boom" }, "secret payload"),
          ),
        ),
        (error: Error & { condition?: string; stanza?: { toString(): string } }) => {
          assert.match(String(error.message) + String(error.condition ?? ""), /internal-server-error/);
          return true;
        },
      );
      const again = await alice.iq(
        xml("iq", { type: "get", to: echoDomain }, xml("ping", { xmlns: "urn:xmpp:ping" })),
      );
      assert.equal(again.attrs.type, "result");
    });

    test(`[${kind}] an unknown IQ namespace is answered service-unavailable`, async () => {
      await assert.rejects(
        alice.iq(
          xml("iq", { type: "get", to: echoDomain }, xml("query", { xmlns: "urn:cordon:test:nothing" })),
        ),
        /service-unavailable/,
      );
    });

    test(`[${kind}] a wrong secret is a clear fatal error naming the domain`, async () => {
      const wrong = createComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: spareDomain,
        secret: "not-the-secret",
        reconnect: { initialMs: 50, maxMs: 100 },
      });
      const error = await wrong.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof AuthenticationFailedError, `got ${String(error)}`);
      assert.match(error.message, new RegExp(spareDomain.replace(/\./g, "\\.")));
      assert.equal(wrong.status, "failed");
      await wrong.stop();
    });

    test(`[${kind}] after a server restart the component reconnects by itself and answers again`, async () => {
      await alice.stop();
      const offline = once(component as unknown as NodeJS.EventEmitter, "offline");
      const online = new Promise<void>((resolveOnline) => {
        void offline.then(() => component.once("online", () => resolveOnline())); // the test awaits `online`
      });
      await server.restart();
      await offline;
      await online;
      alice = await connectClient(server, "alice", "alice-pw");
      const result = await alice.iq(
        xml("iq", { type: "get", to: echoDomain }, xml("query", { xmlns: NS_INFO })),
        10_000,
      );
      assert.equal(result.attrs.type, "result");
      assert.ok(component.reconnects >= 1);
    });

    test(`[${kind}] cordon start runs the example from a config file and exits 0 on SIGTERM`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "cordon-start-"));
      const config = join(dir, "cordon.yaml");
      writeFileSync(
        config,
        `log: { level: info }\nserver: { host: 127.0.0.1, port: ${server.componentPort} }\ncomponents:\n  example:\n    domain: ${spareDomain}\n    secret: { env: SPARE_SECRET }\n`,
      );
      const run = startCli(config, { SPARE_SECRET: "spare-secret" });
      const child = run.child;
      try {
        await untilOnline(run);
        const reply = await alice.iq(
          xml("iq", { type: "get", to: spareDomain }, xml("ping", { xmlns: "urn:xmpp:ping" })),
        );
        assert.equal(reply.attrs.type, "result");
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        const [code] = (await exited) as [number | null];
        assert.equal(code, 0, run.stderr());
        assert.match(run.stderr(), /"msg":"stopped"/);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
}
