// Issue 17 (review adv16b): a message a session of a served domain sends to ANOTHER domain is
// decided on its way out — its label (unlabelled: the default), the sender's clearance, the
// server's, the sending session's client location, and the destination domain's outbound peer
// clearance (packages/guard/src/outbound.ts). Real Prosody and real ejabberd, the guard module
// loaded; the other domains are XEP-0114 components on the same server, routed to as any other
// domain: `remote.…` (untrusted: another domain, its outbound peer clearance in the store),
// `nowhere.…` (another domain Cordon has no clearance for) and `peer.…` (trusted: it stands for a
// peer domain Cordon's relay claims, which judges the destination itself). Clients connect from
// 127.0.0.1 (a site cleared for everything) or 127.0.0.2 (one cleared for UNCLASSIFIED only).
// Before this change (integ's modules) every test here failed on both servers: the SECRET message
// from the annex, the uncleared sender's and those sent while the guard was down reached the other
// domain, the sender's forged marking went out (O2), no error came back (O5) — only the sent
// carbons were asked about.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connectClient, sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import { createComponent, type CordonComponent, type Element } from "@cordon/component";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { TLPX, tlpLabel } from "../src/relay-fixture.js";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, GUARD_ALL, UNCLASSIFIED_SITE } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";
import { GuardRelay } from "../src/guard-relay-fixture.js";

const demo = loadDemo();
const PASSWORD = "locx-pw";
const NS_SL = "urn:xmpp:sec-label:0";
const message = (to: string, id: string, body: string, label = "") =>
  `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${label}</message>`;
const LONG_ID = "o5-".padEnd(300, "x");

for (const kind of serverKinds()) {
  describe(`messages to another domain, decided on their way out, on ${kind} (issue 17)`, () => {
    const domain = `${kind}-locx.test`;
    const remote = `remote.${domain}`;
    const nowhere = `nowhere.${domain}`;
    const peer = `peer.${domain}`;
    const store = new MemoryStore();
    let server: XmppServer;
    let guard: GuardService | undefined;
    const components: CordonComponent[] = [];
    /** What each other domain received (messages), by domain. */
    const got = new Map<string, Element[]>();
    const decisions: string[] = [];
    const open: TestClient[] = [];

    const secret = (marking = "SECRET") =>
      demo.labelXml(demo.label("SECRET")).replace(/>SECRET</, `>${marking}<`);
    /** Resolves with the message `id` once the domain got it (rejects after `ms`: never arrived). */
    const arrived = async (at: string, id: string, ms = 15_000): Promise<Element> => {
      for (const end = Date.now() + ms; Date.now() < end; await guarded.sleep(50)) {
        const m = got.get(at)?.find((e) => e.attrs.id === id);
        if (m) return m;
      }
      throw new Error(`${id} never reached ${at}`);
    };
    /** The sender's error for `id` (its condition element's name), or "delivered" when `at` got it. */
    const outcome = async (from: TestClient, at: string, id: string): Promise<string> =>
      Promise.race([
        arrived(at, id, 10_000).then(
          () => "delivered",
          () => new Promise<string>(() => undefined), // (the error below answers)
        ),
        from
          .waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 10_000)
          .then(
            (e) => `${e.getChild("error")?.attrs.type}:${e.getChild("error")?.getChildElements()[0]?.name}`,
          ),
      ]);
    /**
     * Nothing of `ids` reached `at`: a control message sent after them by the same session is
     * delivered, and the session's messages leave in order (RFC 6120 §10.1) — no timing.
     */
    const noneArrived = async (from: TestClient, at: string, ids: string[], control: string) => {
      await sendRaw(from, message(`bob@${at}`, control, "control"));
      await arrived(at, control);
      for (const id of ids)
        assert.equal(
          got.get(at)?.some((e) => e.attrs.id === id),
          false,
          `${id} reached ${at}`,
        );
    };
    const startGuard = async () => {
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        locations: guarded.twoSites(demo),
        onDecision: (outcome, reason) => decisions.push(`${outcome}:${reason}`),
      });
    };

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "carol"],
          cleared: ["alice"],
          password: PASSWORD,
          guard: { timeoutSeconds: 2, trusted: [peer] },
        },
        {
          components: [remote, nowhere, peer].map((d) => ({ domain: d, secret: "other" })),
          extraModules: kind === "prosody" ? ["carbons"] : ["mod_carboncopy"],
        },
      );
      await store.setUserClearance(`carol@${domain}`, demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await store.setPeerClearance(remote, "outbound", demo.raw(demo.clearance(GUARD_ALL)));
      for (const d of [remote, nowhere, peer]) {
        const c = createComponent({
          service: `xmpp://127.0.0.1:${server.componentPort}`,
          domain: d,
          secret: "other",
          reconnect: { initialMs: 100, maxMs: 1000 },
        });
        got.set(d, []);
        c.onMessage((m) => {
          got.get(d)?.push(m);
        });
        await c.start();
        components.push(c);
      }
      await startGuard();
    });

    after(async () => {
      for (const c of components) await c.stop().catch(() => undefined);
      await guarded.stopGuarded(server, guard, open);
    });

    test(`[${kind}] O1: SECRET from the UNCLASSIFIED-only location to another domain is refused forbidden, nothing reaches it`, async () => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex", UNCLASSIFIED_SITE);
      await sendRaw(annex, message(`bob@${remote}`, "o1-s", "secret from the annex", secret()));
      assert.equal(await outcome(annex, remote, "o1-s"), "auth:forbidden");
      // Unlabelled from there: the default label (UNCLASSIFIED), granted at the annex.
      await sendRaw(annex, message(`bob@${remote}`, "o1-u", "plain from the annex"));
      assert.equal(await outcome(annex, remote, "o1-u"), "delivered");
      await noneArrived(annex, remote, ["o1-s"], "o1-c");
    });

    test(`[${kind}] O2: the same from the cleared location is delivered with the policy's marking; its sent carbons decided in the same answer`, async () => {
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "desk", CLEARED_SITE);
      const sessions = guarded.capsSessions(kind, () => server, open, PASSWORD);
      const phone = await sessions("alice", "phone", CLEARED_SITE, true, true);
      const kiosk = await sessions("alice", "kiosk", UNCLASSIFIED_SITE, true, true);
      decisions.length = 0;
      await sendRaw(desk, message(`bob@${remote}`, "o2", "secret from the desk", secret("forged marking")));
      assert.equal(await outcome(desk, remote, "o2"), "delivered");
      const out = await arrived(remote, "o2");
      const label = out.getChild("securitylabel", NS_SL);
      assert.equal(label?.getChildText("displaymarking"), "SECRET", "the policy's marking, not the sender's");
      assert.equal(out.getChildren("securitylabel", NS_SL).length, 1);
      assert.equal(out.getChildText("body"), "secret from the desk");
      // The sent carbon: at the cleared site, not at the annex.
      const carbon = await phone.waitFor(
        (m) => m.getChild("sent", "urn:xmpp:carbons:2") !== undefined && m.toString().includes("o2"),
        10_000,
      );
      assert.ok(carbon.toString().includes("secret from the desk"));
      await sendRaw(desk, message(`bob@${remote}`, "o2-c", "control"));
      await phone.waitFor((m) => m.toString().includes("o2-c"), 10_000);
      await kiosk.waitFor((m) => m.toString().includes("o2-c"), 10_000);
      assert.equal(
        kiosk.received.some((m) => m.toString().includes("secret from the desk")),
        false,
        "no SECRET carbon at the annex",
      );
      // One question per outbound message (its carbons decided with it).
      assert.deepEqual(decisions, ["deliver:deliver", "deliver:deliver"]);
    });

    test(`[${kind}] O3: a sender whose clearance does not grant the label is refused outbound`, async () => {
      const carol = await guarded.openSession(server, open, PASSWORD, "carol", "desk", CLEARED_SITE);
      await sendRaw(carol, message(`bob@${remote}`, "o3", "secret from carol", secret()));
      assert.equal(await outcome(carol, remote, "o3"), "auth:forbidden");
      // A domain Cordon has no clearance for grants nothing, labelled or not.
      const alice = await guarded.openSession(server, open, PASSWORD, "alice", "o3", CLEARED_SITE);
      await sendRaw(alice, message(`bob@${nowhere}`, "o3-n", "plain to nowhere"));
      assert.equal(await outcome(alice, nowhere, "o3-n"), "auth:forbidden");
      await noneArrived(carol, remote, ["o3"], "o3-c");
      assert.equal(got.get(nowhere)?.length, 0);
    });

    test(`[${kind}] O6: to a trusted component (a relay-claimed peer domain) the sending session's location is checked once`, async () => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex6", UNCLASSIFIED_SITE);
      await sendRaw(annex, message(`bob@${peer}`, "o6-s", "secret to the peer", secret()));
      assert.equal(await outcome(annex, peer, "o6-s"), "auth:forbidden");
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "desk6", CLEARED_SITE);
      await sendRaw(desk, message(`bob@${peer}`, "o6-d", "secret to the peer", secret()));
      assert.equal(await outcome(desk, peer, "o6-d"), "delivered");
      // (As written: the component decides the label — here the sender's own.)
      assert.equal(
        (await arrived(peer, "o6-d")).getChild("securitylabel", NS_SL)?.getChildText("displaymarking"),
        "SECRET",
      );
      await noneArrived(annex, peer, ["o6-s"], "o6-c");
    });

    test(`[${kind}] O5: the error carries nothing of the message`, async () => {
      const annex = await guarded.openSession(server, open, PASSWORD, "alice", "annex5", UNCLASSIFIED_SITE);
      await sendRaw(
        annex,
        `<message to='bob@${remote}' id='${LONG_ID}' type='chat' xml:lang='en'><body>the hidden words</body>` +
          `<thread>t-o5</thread>${secret()}<x xmlns='urn:example:o5'>payload</x></message>`,
      );
      await sendRaw(annex, message(`bob@${remote}`, "o5", "the hidden words", secret()));
      const error = await annex.waitFor((m) => m.attrs.id === "o5" && m.attrs.type === "error", 10_000);
      const long = await annex.waitFor(
        (m) => m.attrs.type === "error" && m.attrs.from === `bob@${remote}` && m.attrs.id === undefined,
        10_000,
      );
      for (const e of [error, long]) {
        const text = e.toString();
        for (const leak of [
          "hidden words",
          "securitylabel",
          "t-o5",
          "payload",
          "urn:example:o5",
          "SECRET",
          "o5-xx",
        ])
          assert.ok(!text.includes(leak), `${leak} in ${text}`);
        assert.deepEqual(
          e.getChildElements().map((c) => c.name),
          ["error"],
        );
        assert.ok(e.getChild("error")?.getChild("forbidden"));
      }
      await noneArrived(annex, remote, ["o5", LONG_ID], "o5-c");
    });

    test(`[${kind}] O4: guard stopped — outbound labelled and unlabelled refused with wait, nothing delivered; guard back — delivered`, async () => {
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "desk4", CLEARED_SITE);
      await guard?.stop();
      guard = undefined;
      await sendRaw(desk, message(`bob@${remote}`, "o4-s", "secret while down", secret()));
      await sendRaw(desk, message(`bob@${remote}`, "o4-u", "plain while down"));
      for (const id of ["o4-s", "o4-u"]) assert.match(await outcome(desk, remote, id), /^wait:/, id);
      await startGuard();
      await sendRaw(desk, message(`bob@${remote}`, "o4-b", "secret, back", secret()));
      assert.equal(await outcome(desk, remote, "o4-b"), "delivered");
      await noneArrived(desk, remote, ["o4-s", "o4-u"], "o4-c");
    });

    test(`[${kind}] O7: a trusted component's domain while the component is away is decided as any other domain's`, async () => {
      // ejabberd has no route for it then and sends the message on by s2s (a relay-claimed domain:
      // to the peer itself, past the relay); the module asked as for the component — the sender
      // side only — and let it go (review adv17a, left; closed here). Now: decided with that
      // domain's outbound peer clearance — none here, so refused. Prosody bounces a configured
      // component host while it is away (mod_component: wait/remote-server-timeout, "Component
      // unavailable"; the message never leaves).
      await components[2]!.stop();
      const desk = await guarded.openSession(server, open, PASSWORD, "alice", "desk7", CLEARED_SITE);
      await sendRaw(desk, message(`bob@${peer}`, "o7-s", "secret, peer away", secret()));
      const error = await desk.waitFor((m) => m.attrs.id === "o7-s" && m.attrs.type === "error", 10_000);
      const condition = `${error.getChild("error")?.attrs.type}:${error.getChild("error")?.getChildElements()[0]?.name}`;
      assert.equal(condition, kind === "ejabberd" ? "auth:forbidden" : "wait:remote-server-timeout");
      assert.equal(
        got.get(peer)?.some((e) => e.attrs.id === "o7-s"),
        false,
      );
    });
  });
}

// R1: the real thing across Cordon's relay — the guarded server (Prosody, then ejabberd) peers with
// the other kind through the relay, which claims the other side's domain as a trusted component
// (TLPX ↔ TLP, the relay's e2e policies; the peering's outbound clearance up to AMBER). The relay
// judges the peer; the sending session's location is judged once, by the guard on the way out.
// On integ's modules R1 failed on both servers: AMBER from the WHITE-only site crossed the relay.
for (const kind of serverKinds()) {
  const other = kind === "prosody" ? "ejabberd" : "prosody";
  describe(`messages across Cordon's relay, decided on their way out, ${kind} → ${other} (issue 17)`, () => {
    const here = `${kind}-locx-g.test`;
    const there = `${other}-locx-r.test`;
    const relayed = new GuardRelay(kind, { demo, here, there, secret: "locx-relay", peering: "locx" });
    const { open } = relayed;
    let guardedServer: XmppServer, otherServer: XmppServer;
    const tlpxLabel = (n: number) =>
      `<securitylabel xmlns='${NS_SL}'><displaymarking>L${n}</displaymarking><label>${tlpLabel(TLPX, n, [0])}</label></securitylabel>`;

    before(async () => {
      await relayed.start();
      ({ guardedServer, otherServer } = relayed);
    });

    after(() => relayed.stop());

    test(`[${kind}] R1: AMBER from the WHITE-only site to the relay's peer domain is refused by the guard; from the cleared site it crosses`, async () => {
      const bob = await connectClient(otherServer, "bob", "pw", "desk");
      open.push(bob);
      const annex = await guarded.openSession(guardedServer, open, "pw", "alice", "annex", UNCLASSIFIED_SITE);
      const desk = await guarded.openSession(guardedServer, open, "pw", "alice", "desk", CLEARED_SITE);
      const crossed = (from: TestClient, id: string) =>
        Promise.race([
          bob.waitFor((m) => m.attrs.id === id, 10_000).then(() => "delivered"),
          from
            .waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 10_000)
            .then(
              (e) => `${e.getChild("error")?.attrs.type}:${e.getChild("error")?.getChildElements()[0]?.name}`,
            ),
        ]);
      await sendRaw(annex, message(`bob@${there}`, "r1-a", "amber from the annex", tlpxLabel(12)));
      assert.equal(await crossed(annex, "r1-a"), "auth:forbidden");
      await sendRaw(annex, message(`bob@${there}`, "r1-w", "unlabelled from the annex"));
      assert.equal(await crossed(annex, "r1-w"), "delivered");
      await sendRaw(desk, message(`bob@${there}`, "r1-d", "amber from the desk", tlpxLabel(12)));
      assert.equal(await crossed(desk, "r1-d"), "delivered");
      // The relay still judges the peer: RED is beyond the peering's outbound clearance.
      await sendRaw(desk, message(`bob@${there}`, "r1-r", "red from the desk", tlpxLabel(13)));
      assert.match(await crossed(desk, "r1-r"), /:forbidden$/);
      assert.equal(
        bob.received.some((m) => m.attrs.id === "r1-a" || m.attrs.id === "r1-r"),
        false,
      );
    });
  });
}
