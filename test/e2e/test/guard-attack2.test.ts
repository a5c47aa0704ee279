// Attacks on the central check (issue 17), second round: session races. A decision names each
// session of the recipient by its resource; a session that ends while the guard decides and is
// replaced by a new one with the same resource — from another client location — must not take
// the form decided for the old one (client-location.ts: the location is the new session's). Real
// servers, real clients; 127.0.0.1 is a cleared site, 127.0.0.2 an UNCLASSIFIED-only one.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import { createGuardService, type GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";

const demo = loadDemo();
const PASSWORD = "attack2-pw";
const CLEARED_SITE = "127.0.0.1";
const UNCLASSIFIED_SITE = "127.0.0.2";

function sendRaw(client: TestClient, data: string): Promise<void> {
  return (client.xmpp as unknown as { write(data: string): Promise<void> }).write(data);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of serverKinds()) {
  describe(`attacks on the central check, round 2, on ${kind} (issue 17)`, () => {
    const domain = `${kind}-attack2.test`;
    const guardDomain = `guard.${domain}`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    // Lookups of the gated user's clearance wait for `release` (the guard is slow deciding).
    let gated: string | undefined;
    let gate: Promise<void> = Promise.resolve();
    let release: () => void = () => undefined;

    async function session(user: string, resource: string, site: string) {
      const client = await connectClient(server, user, PASSWORD, resource, { localAddress: site });
      open.push(client);
      return client;
    }

    before(async () => {
      server = await startServer(kind, {
        domain,
        components: [{ domain: guardDomain, secret: "guard" }],
        guard: { component: guardDomain, timeoutSeconds: 6 },
        users: ["alice", "erin", "fay", "gil"].map((u) => ({ username: u, password: PASSWORD })),
      });
      const all = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"];
      for (const u of ["alice", "erin", "fay", "gil"])
        await store.setUserClearance(jid(u), demo.raw(demo.clearance(all)));
      guard = createGuardService({
        service: `xmpp://127.0.0.1:${server.componentPort}`,
        domain: guardDomain,
        secret: "guard",
        served: [domain],
        registry: demo.registry,
        store,
        users: {
          getUserClearance: async (who, policy) => {
            if (who === gated) await gate;
            return store.getUserClearance(who, policy);
          },
          subscribe: (listener) => store.subscribe(listener),
        },
        defaultLabel: demo.label("UNCLASSIFIED"),
        locations: [
          { ranges: [`${CLEARED_SITE}/32`], clearance: demo.clearance(all) },
          { ranges: [`${UNCLASSIFIED_SITE}/32`], clearance: demo.clearance(["UNCLASSIFIED"]) },
        ],
        reconnect: { initialMs: 100, maxMs: 1000 },
      });
      await guard.start();
    });

    after(async () => {
      if (process.env["GUARD_DEBUG"]) console.log(server.logTail(120));
      for (const client of open) await client.stop().catch(() => undefined);
      await guard?.stop();
      await server?.stop();
    });

    for (const [n, bare] of [
      [1, true],
      [2, false],
    ] as const) {
      test(`[${kind}] a session that reconnects from an uncleared site with the same resource while the guard decides gets nothing (to the ${bare ? "bare" : "full"} JID)`, async () => {
        const user = n === 1 ? "erin" : "fay";
        const alice = await session("alice", `desk${n}`, CLEARED_SITE);
        const desk = await session(user, "r", CLEARED_SITE);
        gate = new Promise((r) => (release = r));
        gated = jid(user);
        await sendRaw(
          alice,
          `<message to='${bare ? jid(user) : `${jid(user)}/r`}' id='race${n}' type='chat'><body>the plans</body>${SECRET}</message>`,
        );
        await sleep(500); // the module has asked about the session at the cleared site
        await desk.stop();
        const annex = await session(user, "r", UNCLASSIFIED_SITE); // same resource, uncleared site
        await sleep(300);
        gated = undefined;
        release();
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
      gate = new Promise((r) => (release = r));
      gated = jid("gil");
      await sendRaw(
        alice,
        `<message to='${jid("gil")}' id='race3' type='chat'><body>the plans</body>${SECRET}</message>`,
      );
      await sleep(500); // asked about a recipient with no session
      const annex = await session("gil", "r", UNCLASSIFIED_SITE);
      await sleep(300);
      gated = undefined;
      release();
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
  });
}
