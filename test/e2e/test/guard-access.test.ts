// The server access label (issue 17): with the guard's `accessLabel` and the module's access option
// (Prosody `cordon_guard_access = true`, ejabberd `access_check: true`, set as an admin sets them in
// deploy/prosody/cordon-guard.cfg.lua and deploy/ejabberd/cordon-guard.yml), a user logs in (binds a
// resource, RFC 6120 §7) only when their clearance grants the label. Real server, real clients:
// cleared, not cleared and uncleared users; Cordon stopped → nobody logs in; Cordon back → the
// cleared user does; a guard without an access label lets everyone in.
import { describe, test, before, after } from "node:test";
import { connect } from "node:net";
import assert from "node:assert/strict";
import { startServer, serverKinds, connectClient, type XmppServer } from "@cordon/harness";
import { createGuardService, type AccessReason, type GuardService } from "@cordon/guard";
import { createComponent } from "@cordon/component";
import type { Label } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";

const demo = loadDemo();
const PASSWORD = "access-pw";

/** The condition of the error that stopped a login (the bind's, or the stream's). */
function conditionOf(error: unknown): string | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const condition = (e as { condition?: unknown }).condition;
    if (typeof condition === "string") return condition;
  }
  return undefined;
}

/**
 * A login with XEP-0078 (jabber:iq:auth, the server's legacy-auth module): one request that
 * authenticates and binds. Resolves with "result" or the error condition of the answer.
 */
function legacyLogin(server: XmppServer, username: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.c2sPort, server.host);
    let data = "";
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to the legacy login of ${username}; got: ${data.slice(0, 500)}`));
    }, 8000);
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.end("</stream:stream>");
      resolve(outcome);
    };
    socket.setEncoding("utf8");
    socket.on("error", reject);
    socket.on("connect", () =>
      socket.write(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${server.domain}' version='1.0'>`,
      ),
    );
    socket.on("data", (chunk: string) => {
      data += chunk;
      if (!sent && data.includes("</stream:features>")) {
        sent = true;
        socket.write(
          `<iq type='set' id='legacy-1'><query xmlns='jabber:iq:auth'><username>${username}</username><password>${password}</password><resource>legacy</resource></query></iq>`,
        );
      }
      const reply = /<iq[^>]*id=["']legacy-1["'][^>]*?(\/>|>[\s\S]*?<\/iq>)/.exec(data)?.[0];
      if (!reply) return;
      if (/type=["']result["']/.test(reply)) return done("result");
      const condition = /<([a-z-]+)[^>]*xmlns=["']urn:ietf:params:xml:ns:xmpp-stanzas["']/.exec(reply)?.[1];
      done(condition ?? `unparsed: ${reply.slice(0, 200)}`);
    });
  });
}

for (const kind of serverKinds()) {
  describe(`the server access label on ${kind} (issue 17)`, () => {
    const domain = `${kind}-access.test`;
    const guardDomain = `guard.${domain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService | undefined;
    const decisions: [boolean, AccessReason][] = [];
    const jid = (u: string) => `${u}@${domain}`;

    const startGuard = async (accessLabel: Label | null = demo.label("CONFIDENTIAL")) => {
      guard = createGuardService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: guardDomain,
        secret: "guard",
        served: [domain],
        registry: demo.registry,
        store,
        defaultLabel: demo.label("UNCLASSIFIED"),
        ...(accessLabel ? { accessLabel } : {}),
        onAccess: (allowed, reason) => decisions.push([allowed, reason]),
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await guard.start();
    };

    /** Logs `user` in and out; resolves once bound and online (initial presence reflected). */
    async function logsIn(user: string) {
      const client = await connectClient(server, user, PASSWORD, undefined, { timeoutMs: 8000 });
      assert.equal(client.jid.split("/")[0], jid(user));
      await client.stop();
    }

    /** Logging `user` in fails at resource binding: the condition the server refused it with. */
    async function refused(user: string): Promise<string | undefined> {
      const error = await connectClient(server, user, PASSWORD, undefined, { timeoutMs: 8000 }).then(
        async (client) => {
          await client.stop();
          assert.fail(`${user} logged in`);
        },
        (e: unknown) => e,
      );
      return conditionOf(error);
    }

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: guardDomain, secret: "guard" }],
        guard: { component: guardDomain, timeoutSeconds: 2, access: true },
        users: ["alice", "bob", "carol"].map((u) => ({ username: u, password: PASSWORD })),
        // XEP-0078 binds in the authentication request: its own path into the bind, checked too.
        extraModules: [kind === "prosody" ? "legacyauth" : "mod_legacy_auth"],
      });
      await store.setUserClearance(jid("alice"), demo.raw(demo.clearance(["UNCLASSIFIED", "CONFIDENTIAL"])));
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED"])));
      // carol: no clearance at all.
      await startGuard();
    });

    after(async () => {
      if (process.env["GUARD_DEBUG"]) console.log(server.logTail(80));
      await guard?.stop();
      await server?.stop();
    });

    test(`[${kind}] a user whose clearance grants the access label logs in`, async () => {
      await logsIn("alice");
      assert.deepEqual(decisions.at(-1), [true, "granted"]);
    });

    test(`[${kind}] a user whose clearance does not grant it is refused at resource binding`, async () => {
      assert.equal(await refused("bob"), "not-allowed");
      assert.deepEqual(decisions.at(-1), [false, "not-cleared"]);
    });

    test(`[${kind}] a user with no clearance is refused`, async () => {
      assert.equal(await refused("carol"), "not-allowed");
      assert.deepEqual(decisions.at(-1), [false, "no-clearance"]);
    });

    test(`[${kind}] XEP-0078 legacy authentication binds only a cleared user, after the password`, async () => {
      assert.equal(await legacyLogin(server, "alice", PASSWORD), "result");
      assert.deepEqual(decisions.at(-1), [true, "granted"]);
      assert.equal(await legacyLogin(server, "bob", PASSWORD), "not-allowed");
      assert.deepEqual(decisions.at(-1), [false, "not-cleared"]);
      // A wrong password is refused as such, before the guard is asked: no clearance oracle.
      const asked = decisions.length;
      assert.equal(await legacyLogin(server, "bob", "wrong"), "not-authorized");
      assert.equal(decisions.length, asked);
    });

    test(`[${kind}] Cordon stopped: nobody logs in (fail closed); Cordon back: the cleared user does`, async () => {
      await guard!.stop();
      guard = undefined;
      const asked = decisions.length;
      assert.equal(await refused("alice"), "not-allowed");
      assert.equal(decisions.length, asked, "the guard was not running");
      await startGuard();
      await logsIn("alice");
      assert.deepEqual(decisions.at(-1), [true, "granted"]);
    });

    test(`[${kind}] a guard that does not answer within the timeout: refused (fail closed)`, async () => {
      await guard!.stop();
      guard = undefined;
      // Connected as the guard, but never answering an <access/>.
      const silent = createComponent({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: guardDomain,
        secret: "guard",
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      silent.handleIq("urn:cordon:guard:0", { get: () => new Promise<never>(() => undefined) }, "access");
      await silent.start();
      try {
        const started = Date.now();
        assert.equal(await refused("alice"), "not-allowed");
        assert.ok(Date.now() - started >= 1900, "refused after the module's 2 s timeout");
      } finally {
        await silent.stop();
      }
      await startGuard();
      await logsIn("alice");
    });

    test(`[${kind}] a guard without an access label lets every user in`, async () => {
      await guard!.stop();
      await startGuard(null);
      await logsIn("carol");
      assert.deepEqual(decisions.at(-1), [true, "no-access-label"]);
    });
  });
}
