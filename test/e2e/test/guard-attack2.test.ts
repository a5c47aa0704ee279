// Attacks on the central check (issue 17), second round: session races. A decision names each
// session of the recipient by its resource; a session that ends while the guard decides and is
// replaced by a new one with the same resource — from another client location — must not take
// the form decided for the old one (client-location.ts: the location is the new session's). Real
// servers, real clients; 127.0.0.1 is a cleared site, 127.0.0.2 an UNCLASSIFIED-only one.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  RawClient,
  sendRaw,
  serverKinds,
  connectClient,
  type XmppServer,
  type TestClient,
} from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "attack2-pw";

for (const kind of serverKinds()) {
  describe(`attacks on the central check, round 2, on ${kind} (issue 17)`, () => {
    const domain = `${kind}-attack2.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    // Lookups of the held user's clearance wait for `held.open()` (the guard is slow deciding).
    const held = new guarded.ClearanceGate();

    const session = (user: string, resource: string, site: string) =>
      guarded.openSession(server, open, PASSWORD, user, resource, site);

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "erin", "fay", "gil", "hal", "jo", "kim", "lee", "max"],
          password: PASSWORD,
          guard: { timeoutSeconds: 6 },
        },
        {
          extraModules:
            kind === "prosody" ? ["smacks", "mam"] : ["mod_stream_mgmt", "mod_mam: {default: always}"],
        },
      );
      const users = held.users(store, false);
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, users, locations: guarded.twoSites(demo) },
        false,
      );
    });

    after(() => guarded.stopGuarded(server, guard, open));

    for (const [n, bare] of [
      [1, true],
      [2, false],
    ] as const) {
      test(`[${kind}] a session that reconnects from an uncleared site with the same resource while the guard decides gets nothing (to the ${bare ? "bare" : "full"} JID)`, async () => {
        const user = n === 1 ? "erin" : "fay";
        const alice = await session("alice", `desk${n}`, CLEARED_SITE);
        const desk = await session(user, "r", CLEARED_SITE);
        held.hold(jid(user));
        await sendRaw(
          alice,
          `<message to='${bare ? jid(user) : `${jid(user)}/r`}' id='race${n}' type='chat'><body>the plans</body>${SECRET}</message>`,
        );
        await sleep(500); // the module has asked about the session at the cleared site
        await desk.stop();
        const annex = await session(user, "r", UNCLASSIFIED_SITE); // same resource, uncleared site
        await sleep(300);
        held.open();
        await sleep(1500);
        assert.deepEqual(
          annex.received.filter((m) => m.toString().includes("the plans")).map((m) => m.toString()),
          [],
          "nothing of the SECRET message reaches the session at the uncleared site",
        );
        await alice.stop();
        await annex.stop();
      });
    }

    test(`[${kind}] a recipient offline when the guard is asked who logs in from an uncleared site meanwhile gets nothing; the sender is told to wait`, async () => {
      const alice = await session("alice", "desk3", CLEARED_SITE);
      held.hold(jid("gil"));
      await sendRaw(
        alice,
        `<message to='${jid("gil")}' id='race3' type='chat'><body>the plans</body>${SECRET}</message>`,
      );
      await sleep(500); // asked about a recipient with no session
      const annex = await session("gil", "r", UNCLASSIFIED_SITE);
      await sleep(300);
      held.open();
      await sleep(1500);
      assert.deepEqual(
        annex.received.filter((m) => m.toString().includes("the plans")).map((m) => m.toString()),
        [],
        "nothing of the SECRET message reaches the session at the uncleared site",
      );
      const error = await alice.waitFor((m) => m.attrs.id === "race3" && m.attrs.type === "error", 8000);
      assert.equal(error.getChild("error")?.attrs.type, "wait");
      assert.ok(!error.toString().includes("the plans"), "nothing of the message in the error");
      await alice.stop();
      await annex.stop();
    });

    /**
     * hal's resumable session (XEP-0198) bound to `resource` at the cleared site loses its
     * connection; alice sends it `id` (SECRET, `body`), queued for it; a new connection from `site`
     * asks to resume it: that connection, once answered.
     */
    async function resumedFrom(
      alice: TestClient,
      bind: string,
      resource: string,
      id: string,
      body: string,
      site: string,
    ) {
      const desk = await RawClient.open(server.c2sPort, CLEARED_SITE);
      await desk.login(domain, "hal", PASSWORD);
      desk.write(
        `<iq type='set' id='${bind}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
      );
      await desk.until(new RegExp(`id=["']${bind}["']`));
      desk.write("<enable xmlns='urn:xmpp:sm:3' resume='true'/><presence/>");
      const [, previd] = await desk.until(/<enabled[^>]*\bid=["']([^"']+)["']/);
      await sleep(300);
      desk.drop(); // the connection is lost; the session waits to be resumed
      await sleep(500);
      // Decided for the session at the cleared site, queued for it while it is away.
      await sendRaw(
        alice,
        `<message to='${jid("hal")}/${resource}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`,
      );
      await sleep(1000);
      const resumer = await RawClient.open(server.c2sPort, site);
      await resumer.login(domain, "hal", PASSWORD);
      resumer.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
      await resumer.until(/<(failed|resumed)\b/);
      return resumer;
    }

    test(`[${kind}] a session resumed (XEP-0198) from an uncleared site gets nothing decided for its old site`, async () => {
      const alice = await session("alice", "desk4", CLEARED_SITE);
      const annex = await resumedFrom(alice, "b1", "r", "resume1", "the plans", UNCLASSIFIED_SITE);
      await sleep(1500);
      annex.close();
      assert.ok(
        !annex.text.includes("the plans"),
        `nothing of the SECRET message at the uncleared site: ${annex.text}`,
      );
      assert.match(annex.text, /<failed\b/, "a resumption from another address is refused");
      // From the same address a resumption whose queue holds an unacknowledged message is refused
      // on both servers (guard-lifecycle RS4 on Prosody, guard-access RS6 on ejabberd): it was
      // decided for the clearance hal had then. The slept session ends as by its timeout and the
      // server hands its queue on as then: on Prosody hal's other session (r, still hibernating) is
      // online, so not to offline storage — its sender is told `recipient-unavailable`, with nothing
      // of it; on ejabberd the server archive is on here and mod_stream_mgmt drops an archived
      // message of the ended session (no bounce): it stays in the archive, decided again when fetched.
      const back = await resumedFrom(alice, "b2", "s", "resume2", "more plans", CLEARED_SITE);
      assert.match(back.text, /<failed\b[^>]*>\s*<not-allowed\b/, back.text);
      if (kind === "prosody") {
        const bounced = await alice.waitFor(
          (m) => m.attrs.id === "resume2" && m.attrs.type === "error",
          8000,
        );
        assert.ok(!bounced.toString().includes("plans"), "nothing of the message in the error");
      }
      await sleep(1000);
      assert.ok(!back.text.includes("more plans"), "not replayed as decided when queued");
      back.close();
      await alice.stop();
    });

    test(`[${kind}] the archive (XEP-0313) in every namespace the server offers serves nothing SECRET to an uncleared site`, async () => {
      const alice = await session("alice", "desk5", CLEARED_SITE);
      const desk = await session("jo", "desk", CLEARED_SITE);
      await sendRaw(
        alice,
        `<message to='${jid("jo")}' id='mam1' type='chat'><body>archived plans</body>${SECRET}</message>`,
      );
      await desk.waitFor((m) => m.attrs.id === "mam1", 8000);
      await desk.stop();
      const annex = await session("jo", "annex", UNCLASSIFIED_SITE);
      for (const [i, ns] of [
        "urn:xmpp:mam:2",
        "urn:xmpp:mam:1",
        "urn:xmpp:mam:0",
        "urn:xmpp:mam:tmp",
      ].entries()) {
        await sendRaw(annex, `<iq type='set' id='q${i}'><query xmlns='${ns}' queryid='m${i}'/></iq>`);
        await annex.waitFor((m) => m.name === "iq" && m.attrs.id === `q${i}`, 8000);
      }
      await sleep(1000);
      assert.deepEqual(
        annex.received.filter((m) => m.toString().includes("archived plans")).map((m) => m.toString()),
        [],
        "nothing SECRET from the archive at the uncleared site",
      );
      // (control) from the cleared site the archive serves it.
      const back = await session("jo", "desk2", CLEARED_SITE);
      await sendRaw(back, `<iq type='set' id='qb'><query xmlns='urn:xmpp:mam:2' queryid='mb'/></iq>`);
      await back.waitFor((m) => m.toString().includes("archived plans"), 8000);
      for (const c of [alice, annex, back]) await c.stop();
    });

    test(`[${kind}] stored messages fetched with XEP-0013 (no initial presence) at an uncleared site: nothing SECRET`, async () => {
      const alice = await session("alice", "desk6", CLEARED_SITE);
      await sendRaw(
        alice,
        `<message to='${jid("kim")}' id='off1' type='chat'><body>stored plans</body>${SECRET}</message>`,
      );
      await sleep(800);
      const annex = await connectClient(server, "kim", PASSWORD, "annex", {
        localAddress: UNCLASSIFIED_SITE,
        presence: false,
      });
      open.push(annex);
      await sendRaw(
        annex,
        "<iq type='get' id='f1'><offline xmlns='http://jabber.org/protocol/offline'><fetch/></offline></iq>",
      );
      await annex.waitFor((m) => m.name === "iq" && m.attrs.id === "f1", 8000);
      await sleep(1000);
      assert.deepEqual(
        annex.received.filter((m) => m.toString().includes("stored plans")).map((m) => m.toString()),
        [],
        "nothing SECRET from offline storage at the uncleared site",
      );
      await annex.stop();
      await alice.stop();
    });

    test(`[${kind}] a stored message replayed while the guard is slower than the module's timeout stays stored (not delivered, not lost)`, async () => {
      const alice = await session("alice", "desk7", CLEARED_SITE);
      await sendRaw(
        alice,
        `<message to='${jid("lee")}' id='slow1' type='chat'><body>stored while slow</body>${SECRET}</message>`,
      );
      await sleep(800);
      held.hold(jid("lee"));
      // (The same clearance set again: the guard's cached one is dropped, the next lookup is gated.)
      await store.setUserClearance(
        jid("lee"),
        demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"])),
      );
      await sleep(200);
      const first = await session("lee", "desk", CLEARED_SITE); // its replay waits past the timeout (6 s)
      await sleep(7500);
      assert.equal(first.received.filter((m) => m.attrs.id === "slow1").length, 0);
      await first.stop();
      held.open();
      const second = await session("lee", "desk", CLEARED_SITE);
      const got = await second.waitFor((m) => m.attrs.id === "slow1", 8000);
      assert.ok(got.toString().includes("stored while slow"));
      await second.stop();
      await alice.stop();
    });

    test(`[${kind}] with the server archive on (XEP-0313), a session at an uncleared site still gets nothing of a SECRET message`, async () => {
      const alice = await session("alice", "desk8", CLEARED_SITE);
      const desk = await session("max", "desk", CLEARED_SITE);
      const annex = await session("max", "annex", UNCLASSIFIED_SITE);
      await sendRaw(
        alice,
        `<message to='${jid("max")}' id='arch1' type='chat'><body>archived and sent</body>${SECRET}</message>`,
      );
      await desk.waitFor((m) => m.attrs.id === "arch1", 8000);
      await sleep(1000);
      assert.deepEqual(
        annex.received.filter((m) => m.toString().includes("archived and sent")).map((m) => m.toString()),
        [],
        "nothing of the SECRET message reaches the session at the uncleared site",
      );
      for (const c of [alice, desk, annex]) await c.stop();
    });
  });
}
