// The server access label (issue 17): with the guard's `accessLabel` and the module's access option
// (Prosody `cordon_guard_access = true`, ejabberd `access_check: true`, set as an admin sets them in
// deploy/prosody/cordon-guard.cfg.lua and deploy/ejabberd/cordon-guard.yml), a user logs in (binds a
// resource, RFC 6120 §7) only when their clearance grants the label. Real server, real clients:
// cleared, not cleared and uncleared users; Cordon stopped → nobody logs in; Cordon back → the
// cleared user does; a guard without an access label lets everyone in.
// XEP-0198 §5 resumption is a login too (RS1-RS3): a cleared user resumes; a user whose clearance
// was lowered while the session was hibernated, or any user while Cordon is down, is refused with
// a <policy-violation/> stream error on ejabberd, <failed><not-allowed/> on Prosody (RFC 6120 §4.9.3.14) — nothing resumed, nothing resent. On
// ejabberd the module asks again before mod_stream_mgmt resumes (before: resumed, and the stanzas
// held for the session resent, with no question asked); Prosody's before mod_smacks answers, with
// <failed><not-allowed/> (guard-lifecycle has its own RS tests). RS4: what the refused session held is bounced to its sender
// with nothing of the message (before: ejabberd's bounce copied the labelled message, the guard
// dropped it, the sender never heard). RS5: a second try, or a made-up previd, resumes nothing.
// RS6 (ejabberd): a resumption whose queue holds an unacknowledged message (decided for the
// clearance the user had when it was queued) is refused with <failed><not-allowed/>, even with the
// access label still granted; nothing queued — resumed (RS1 on ejabberd: refused, a message held).
import { describe, test, before, after } from "node:test";
import { connect } from "node:net";
import assert from "node:assert/strict";
import { RawClient, sendRaw, serverKinds, connectClient, type XmppServer } from "@cordon/harness";
import type { AccessReason, GuardService } from "@cordon/guard";
import { createComponent } from "@cordon/component";
import type { Label } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { GUARD_ALL as SECRET_CLEARED, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

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
      const onAccess = (allowed: boolean, reason: AccessReason) => void decisions.push([allowed, reason]);
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, ...(accessLabel ? { accessLabel } : {}), onAccess },
        false,
      );
    };

    /**
     * A resumable session of `user` (XEP-0198 §5) that lost its connection; `meanwhile` runs while
     * it is hibernated (a message to it held in its queue, the clearance lowered, Cordon stopped),
     * then it is resumed on a new connection: what that connection read.
     */
    async function resumeAfter(user: string, resource: string, meanwhile: () => Promise<void>) {
      const first = await RawClient.open(server.c2sPort, "127.0.0.1");
      await first.login(domain, user, PASSWORD);
      const previd = await first.bindResumable(resource);
      await sleep(300);
      first.drop();
      await sleep(500);
      // Held for the hibernated session (decided for it while it was cleared).
      const sender = await connectClient(server, user === "dan" ? "erin" : "dan", PASSWORD, `to-${resource}`);
      await sendRaw(
        sender,
        `<message to='${jid(user)}/${resource}' id='held-${resource}' type='chat'><body>held while away</body></message>`,
      );
      await sleep(500);
      await sender.stop();
      await meanwhile();
      const back = await RawClient.open(server.c2sPort, "127.0.0.1");
      await back.login(domain, user, PASSWORD);
      back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
      await back.until(/<resumed\b|<failed\b|<stream:error/);
      await sleep(500);
      back.close();
      return back.text;
    }

    /** The resumption was refused with a policy-violation stream error, nothing resumed or resent. */
    function refusedResumption(text: string) {
      // ejabberd ends the new stream; Prosody answers the <resume/> (XEP-0198 §5) and keeps it.
      if (kind === "ejabberd") assert.match(text, /<stream:error>\s*<policy-violation\b/, text);
      else assert.match(text, /<failed\b[^>]*>\s*<not-allowed\b/, text);
      assert.ok(!/<resumed\b/.test(text), `not resumed: ${text}`);
      assert.ok(!/held while away/.test(text), `nothing resent: ${text}`);
    }

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
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol", "dan", "erin", "gus", "hal", "ivy", "jo"],
          cleared: ["ivy", "jo"],
          password: PASSWORD,
          guard: { timeoutSeconds: 2, access: true },
        },
        // XEP-0078 binds in the authentication request: its own path into the bind, checked too.
        // XEP-0198 resumption re-enters a session without binding: checked too.
        {
          extraModules:
            kind === "prosody" ? ["legacyauth", "smacks"] : ["mod_legacy_auth", "mod_stream_mgmt"],
        },
      );
      for (const u of ["alice", "dan", "erin", "gus", "hal"])
        await store.setUserClearance(jid(u), demo.raw(demo.clearance(["UNCLASSIFIED", "CONFIDENTIAL"])));
      await store.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED"])));
      // carol: no clearance at all.
      await startGuard();
    });

    after(() => guarded.stopGuarded(server, guard, [], 80));

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

    test(`[${kind}] RS1: a cleared user's resumption (XEP-0198 §5) with a message held is refused — nothing resent as decided when queued`, async () => {
      await guard!.stop();
      await startGuard();
      const text = await resumeAfter("erin", "rs1", () => Promise.resolve());
      // (Access granted; the held message goes where a lost session's go, decided again: RS6 on
      // ejabberd, guard-lifecycle RS1/RS4 on Prosody, with the controls that do resume.)
      assert.match(text, /<failed\b[^>]*>\s*<not-allowed\b/, text);
      assert.ok(!/held while away/.test(text), `nothing resent: ${text}`);
    });

    test(
      `[${kind}] RS2: a user whose clearance was lowered while hibernated is refused at resumption — a stream error, nothing resent`,
      {},
      async () => {
        const text = await resumeAfter("dan", "rs2", async () => {
          await store.setUserClearance(jid("dan"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
          await guard!.cacheEpochTold();
        });
        try {
          refusedResumption(text);
          assert.deepEqual(decisions.at(-1), [false, "not-cleared"]);
        } finally {
          await store.setUserClearance(
            jid("dan"),
            demo.raw(demo.clearance(["UNCLASSIFIED", "CONFIDENTIAL"])),
          );
        }
      },
    );

    test(
      `[${kind}] RS3: Cordon down when a session is resumed — refused (fail closed), nothing resent`,
      {},
      async () => {
        const text = await resumeAfter("erin", "rs3", async () => {
          await guard!.stop();
          guard = undefined;
        });
        await startGuard();
        refusedResumption(text);
      },
    );
    // RS4: what a refused resumption ends. The hibernated session's unacknowledged messages are
    // bounced by ejabberd to their senders (mod_stream_mgmt without resend_on_timeout, its
    // default: "User session terminated"), as ejabberd's errors do: a copy of the message — the
    // body and the guard's label — in the error. The sender hears of it, with nothing of the
    // message in the error (docs/errors.md: errors never echo content).
    test(
      `[${kind}] RS4: a refused resumption bounces what was held for the session — the sender told, nothing of the message echoed`,
      kind === "prosody"
        ? {
            skip: "Prosody's mod_smacks stores what a refused session held offline (no other session online), decided again: guard-lifecycle RS2",
          }
        : {},
      async () => {
        const sender = await connectClient(server, "dan", PASSWORD, "rs4-sender");
        try {
          const first = await RawClient.open(server.c2sPort, "127.0.0.1");
          await first.login(domain, "gus", PASSWORD);
          const previd = await first.bindResumable("rs4");
          await sleep(300);
          first.drop();
          await sleep(500);
          const CONFIDENTIAL = demo.labelXml(demo.label("CONFIDENTIAL"));
          await sendRaw(
            sender,
            `<message to='${jid("gus")}/rs4' id='held-rs4' type='chat'><body>rs4 held words</body>${CONFIDENTIAL}</message>`,
          );
          await sleep(800);
          // The clearance lowered (Cordon up: the bounce is asked about like any message).
          await store.setUserClearance(jid("gus"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
          await guard!.cacheEpochTold();
          const back = await RawClient.open(server.c2sPort, "127.0.0.1");
          await back.login(domain, "gus", PASSWORD);
          back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
          await back.until(/<resumed\b|<failed\b|<stream:error/);
          await sleep(1000);
          back.close();
          refusedResumption(back.text);
          const error = await sender.waitFor(
            (m) => m.attrs.id === "held-rs4" && m.attrs.type === "error",
            8000,
          );
          const text = error.toString();
          assert.ok(
            !/rs4 held words|securitylabel|CONFIDENTIAL/.test(text),
            `the error echoes nothing: ${text}`,
          );
        } finally {
          if (process.env["GUARD_DEBUG"]) console.log(sender.received.map((m) => m.toString()).join("\n"));
          await sender.stop().catch(() => undefined);
          await store.setUserClearance(
            jid("gus"),
            demo.raw(demo.clearance(["UNCLASSIFIED", "CONFIDENTIAL"])),
          );
        }
      },
    );
    // RS5: a second try with the same previd once Cordon is back (the user cleared): the session
    // the first try named was ended — `item-not-found`, nothing resumed or resent (the client binds
    // afresh); a previd naming no session at all the same.
    test(
      `[${kind}] RS5: after a refused resumption, a second try (Cordon back) or a made-up previd resumes nothing`,
      {},
      async () => {
        const first = await RawClient.open(server.c2sPort, "127.0.0.1");
        await first.login(domain, "hal", PASSWORD);
        const previd = await first.bindResumable("rs5");
        await sleep(300);
        first.drop();
        await sleep(500);
        const sender = await connectClient(server, "dan", PASSWORD, "rs5-sender");
        await sendRaw(
          sender,
          `<message to='${jid("hal")}/rs5' id='held-rs5' type='chat'><body>held while away</body></message>`,
        );
        await sleep(500);
        await sender.stop();
        await guard!.stop();
        guard = undefined;
        const resume = async (id: string) => {
          const back = await RawClient.open(server.c2sPort, "127.0.0.1");
          await back.login(domain, "hal", PASSWORD);
          back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${id}' h='0'/>`);
          await back.until(/<resumed\b|<failed\b|<stream:error/);
          await sleep(500);
          back.close();
          return back.text;
        };
        try {
          refusedResumption(await resume(previd));
        } finally {
          await startGuard();
        }
        await sleep(300);
        for (const id of [previd, Buffer.from("made-up").toString("base64")]) {
          const text = await resume(id);
          assert.ok(!/<resumed\b/.test(text), `not resumed: ${text}`);
          assert.ok(!/held while away/.test(text), `nothing resent: ${text}`);
          assert.match(text, /<failed\b[\s\S]*item-not-found/, text);
        }
      },
    );
    // RS6 (ejabberd): a clearance lowered while the session slept, still granting the access label
    // (CONFIDENTIAL): the SECRET message queued for it was decided while the user was cleared, and
    // mod_stream_mgmt resent it on resumption as decided then. Now a resumption whose queue holds
    // a message the client has not acknowledged (`h`) is refused with <failed><not-allowed/>
    // (XEP-0198 §5, as Prosody's module answers: guard-lifecycle RS4 on Prosody), the slept session
    // ended: the message bounced to its sender with nothing of it (no `resend_on_timeout`), never
    // in offline storage for a later bind. Controls: nothing queued (a presence only) — resumed; a
    // message acknowledged by the <resume/>'s `h` — resumed, not resent.
    test(
      `[${kind}] RS6 (ejabberd): a clearance lowered while the session slept (access still granted) — a resumption with a SECRET message unacknowledged is refused, nothing SECRET delivered`,
      kind === "prosody" ? { skip: "Prosody: guard-lifecycle RS4 (mod_smacks)" } : {},
      async () => {
        const slept = async (resource: string) => {
          const first = await RawClient.open(server.c2sPort, "127.0.0.1");
          await first.login(domain, "ivy", PASSWORD);
          const previd = await first.bindResumable(resource);
          await sleep(300);
          first.drop();
          await sleep(500);
          return previd;
        };
        const resume = async (previd: string) => {
          const back = await RawClient.open(server.c2sPort, "127.0.0.1");
          await back.login(domain, "ivy", PASSWORD);
          back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
          await back.until(/<resumed\b|<failed\b|<stream:error/);
          await sleep(1000);
          return back;
        };
        // Control: nothing queued while asleep — resumed.
        const quiet = await resume(await slept("rs6q"));
        assert.match(quiet.text, /<resumed\b/, quiet.text);
        quiet.write("</stream:stream>");
        await sleep(500);
        quiet.close();
        const sender = await connectClient(server, "jo", PASSWORD, "rs6-sender");
        try {
          // Control: a message the client got before its connection dropped, acknowledged by the
          // `h` of its <resume/> — nothing unacknowledged to resend: resumed, nothing resent.
          const seen = await RawClient.open(server.c2sPort, "127.0.0.1");
          await seen.login(domain, "ivy", PASSWORD);
          const seenId = await seen.bindResumable("rs6h");
          await sendRaw(
            sender,
            `<message to='${jid("ivy")}/rs6h' id='rs6-h' type='chat'><body>seen rs6</body></message>`,
          );
          await seen.until(/seen rs6/);
          await sleep(300);
          const handled =
            (seen.text.split(/<enabled\b/)[1] ?? "").match(/<(message|presence|iq)\b/g)?.length ?? 0;
          seen.drop();
          await sleep(500);
          const acked = await RawClient.open(server.c2sPort, "127.0.0.1");
          await acked.login(domain, "ivy", PASSWORD);
          acked.write(`<resume xmlns='urn:xmpp:sm:3' previd='${seenId}' h='${handled}'/>`);
          await acked.until(/<resumed\b|<failed\b|<stream:error/);
          await sleep(1000);
          assert.match(acked.text, /<resumed\b/, acked.text);
          assert.ok(!acked.text.includes("seen rs6"), `acknowledged, not resent: ${acked.text}`);
          acked.write("</stream:stream>");
          await sleep(500);
          acked.close();
          const previd = await slept("rs6");
          const SECRET = demo.labelXml(demo.label("SECRET"));
          await sendRaw(
            sender,
            `<message to='${jid("ivy")}/rs6' id='rs6-s' type='chat'><body>plans rs6</body>${SECRET}</message>`,
          );
          await sleep(800);
          await store.setUserClearance(
            jid("ivy"),
            demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"])),
          );
          await guard!.cacheEpochTold();
          const back = await resume(previd);
          back.close();
          assert.ok(!back.text.includes("plans rs6"), `SECRET not resent: ${back.text.slice(0, 600)}`);
          assert.doesNotMatch(back.text, /<resumed\b/, "the queue was decided for another clearance");
          assert.match(
            back.text,
            /<failed\b[^>]*>\s*<not-allowed xmlns=["']urn:ietf:params:xml:ns:xmpp-stanzas["']/,
            back.text,
          );
          assert.deepEqual(
            decisions.at(-1),
            [true, "granted"],
            "the access check let the resumption through",
          );
          // The sender is told, with nothing of the message.
          const error = await sender.waitFor((m) => m.attrs.id === "rs6-s" && m.attrs.type === "error", 8000);
          assert.ok(
            !/plans rs6|securitylabel|SECRET/.test(error.toString()),
            `echoes nothing: ${error.toString()}`,
          );
          // The slept session is gone; a fresh bind gets nothing SECRET (offline storage included).
          const again = await resume(previd);
          again.close();
          assert.doesNotMatch(again.text, /<resumed\b/);
          const fresh = await connectClient(server, "ivy", PASSWORD, "rs6b");
          try {
            await sleep(1500);
            assert.deepEqual(
              fresh.received.filter((m) => m.toString().includes("plans rs6")).map((m) => m.attrs.id),
              [],
              "nothing SECRET after binding afresh",
            );
          } finally {
            await fresh.stop().catch(() => undefined);
          }
        } finally {
          await sender.stop().catch(() => undefined);
          await store.setUserClearance(jid("ivy"), demo.raw(demo.clearance(SECRET_CLEARED)));
          await guard!.cacheEpochTold();
        }
      },
    );
  });
}
