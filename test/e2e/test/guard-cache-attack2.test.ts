// Attacks on the central check (issue 17), review of the verdict cache's second round: label_splice
// (Prosody: a cached verdict's label written from text serialised once), single flight (ejabberd:
// messages waiting on the same question) and the modules' <served/> reports. Real servers, real
// clients; 127.0.0.1 is a site cleared for everything, 127.0.0.2 an UNCLASSIFIED-only one.
// - R1: XEP-0198 resumption (same address, so allowed) must keep what the guard decided per
//   session: a resumed session at the uncleared site gets nothing SECRET, a resumed label-unaware
//   session the FLOT form. On Prosody mod_smacks hands the resumed session the new connection's
//   filters — none of the module's (they are added at resource-bind) — so the resumed session got
//   every message as routed: SECRET at the uncleared site — and its archive queries (XEP-0313)
//   answered unchecked.
// - SF3: RFC 6120 §10.1 — a message that waited on a question whose answer was not kept (a new
//   epoch while it was decided: any store change) is asked about itself; on ejabberd that
//   question went out after the sender's later messages to the same recipient had been asked
//   about (another key; or the same key, asked because not all in flight were in the flight),
//   and the later ones were delivered first.
// Held on g17, kept as regressions:
// - LS1: label_splice — a body that spells the placeholder's tail (escaped, as any text) served
//   from the cache: the recipient reads exactly that text and the guard's one label, nothing else.
// - SF1: single flight — a clearance lowered (a new epoch) while messages wait on a question: none
//   of the waiting ones is delivered under the old verdict (each asked again, refused).
// - SF2: the guard gone while messages wait on its question: each refused with `wait`, none
//   delivered; with the guard back, the sender's messages are served from the cache again (its
//   count of messages in flight back to zero, not drifted).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { RawClient, sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import { CLEARED_SITE, UNCLASSIFIED_SITE, settled, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "cache-attack2-pw";

for (const kind of serverKinds()) {
  describe(`attacks on the verdict cache, round 2, on ${kind} (issue 17)`, () => {
    const domain = `${kind}-gcattack2.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    const open: TestClient[] = [];
    const jid = (u: string) => `${u}@${domain}`;
    const SECRET = demo.labelXml(demo.label("SECRET"));
    const chat = (to: string, id: string, body: string, extra = SECRET) =>
      `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${extra}</message>`;

    // The held user's clearance is read, then handed over only once `held.open()` is called (a
    // slow directory: the guard's decision waits with the clearance as it was read).
    const held = new guarded.ClearanceGate();
    const users = held.users(store);
    let decisions = 0;

    async function startGuard() {
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        users,
        onDecision: () => void decisions++,
        locations: guarded.twoSites(demo),
      });
    }

    /** The sender's identical messages are served from the cache (asked once, then not). */
    async function servedFromCache(from: TestClient, to: TestClient, recipient: string, tag: string) {
      for (const [i, asked] of [[0, 1] as const, [1, 0] as const, [2, 0] as const]) {
        const id = `${tag}-${i}`;
        const before = decisions;
        await sendRaw(from, chat(recipient, id, `warm ${id}`));
        await to.waitFor((m) => m.attrs.id === id, 8000);
        if (i > 0) assert.equal(decisions - before, asked, `${id} served from the cache`);
      }
    }

    const session = (user: string, resource: string, site: string) =>
      guarded.openSession(server, open, PASSWORD, user, resource, site);

    /** A session of `user` that lost its connection and resumed it (XEP-0198) from the same `site`. */
    async function resumed(user: string, resource: string, site: string): Promise<RawClient> {
      const first = await RawClient.open(server.c2sPort, site);
      await first.login(domain, user, PASSWORD);
      const previd = await first.bindResumable(resource);
      await sleep(300);
      first.drop();
      await sleep(500);
      const back = await RawClient.open(server.c2sPort, site);
      await back.login(domain, user, PASSWORD);
      back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
      await back.until(/<resumed\b/);
      await sleep(300);
      return back;
    }

    before(async () => {
      server = await guarded.startGuardedServer(
        kind,
        {
          demo,
          domain,
          store,
          users: ["alice", "bob", "carol", "dan", "erin", "fay", "gus", "hal", "ivy"],
          password: PASSWORD,
          guard: { timeoutSeconds: 3, cacheSeconds: 60 },
        },
        {
          extraModules:
            kind === "prosody" ? ["smacks", "mam"] : ["mod_stream_mgmt", "mod_mam: {default: always}"],
        },
      );
      await startGuard();
    });

    after(async () => {
      await guarded.stopGuarded(server, guard, open);
    });

    test(`[${kind}] R1: a session resumed (XEP-0198) at the uncleared site gets nothing SECRET — asked or from the cache`, async () => {
      const alice = await session("alice", "desk", CLEARED_SITE);
      const desk = await session("bob", "desk", CLEARED_SITE);
      const annex = await resumed("bob", "annex", UNCLASSIFIED_SITE);
      // Asked about (the first), then served from the cache (the second): the session at the
      // cleared site gets both (the control), the resumed one at the uncleared site neither.
      for (const id of ["r1a", "r1b"]) {
        await sendRaw(alice, chat(jid("bob"), id, `plans ${id}`));
        await desk.waitFor((m) => m.attrs.id === id, 8000);
      }
      // (an unlabelled message reaches it: the session is live and available)
      await sendRaw(alice, chat(jid("bob"), "r1c", "lunch", ""));
      await desk.waitFor((m) => m.attrs.id === "r1c", 8000);
      await annex.until(/lunch/);
      assert.ok(
        !annex.text.includes("plans"),
        `nothing SECRET at the uncleared site: ${annex.text.slice(-600)}`,
      );
      annex.drop();
      await desk.stop();
      await alice.stop();
    });

    test(`[${kind}] R1: a session resumed (XEP-0198) at the uncleared site gets nothing SECRET from the archive (XEP-0313)`, async () => {
      const alice = await session("alice", "desk3", CLEARED_SITE);
      const desk = await session("hal", "desk", CLEARED_SITE);
      await sendRaw(alice, chat(jid("hal"), "r3a", "archived plans"));
      await desk.waitFor((m) => m.attrs.id === "r3a", 8000);
      await desk.stop();
      const annex = await resumed("hal", "annex", UNCLASSIFIED_SITE);
      annex.write("<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='m1'/></iq>");
      await annex.until(/<iq[^>]*id=["']q1["']/);
      await sleep(500);
      assert.ok(
        !annex.text.includes("archived plans"),
        `nothing SECRET from the archive at the uncleared site: ${annex.text.slice(-600)}`,
      );
      annex.drop();
      await alice.stop();
    });

    test(`[${kind}] R1: a label-unaware session resumed (XEP-0198) gets the FLOT form, as before`, async () => {
      const alice = await session("alice", "desk2", CLEARED_SITE);
      const phone = await resumed("carol", "phone", CLEARED_SITE);
      for (const id of ["r2a", "r2b"]) {
        await sendRaw(alice, chat(jid("carol"), id, `plans ${id}`));
        const [m] = await phone.until(new RegExp(`<message[^>]*id=["']${id}["'][\\s\\S]*?</message>`));
        const body = /<body[^>]*>([\s\S]*?)<\/body>/.exec(m)?.[1];
        assert.equal(body, `SECRET\n${`plans ${id}`}`, `the FLOT form: ${m}`);
      }
      phone.drop();
      await alice.stop();
    });

    test(`[${kind}] SF1 (regression, held): a clearance lowered while messages wait on a question — none of them delivered under the old verdict`, async () => {
      const alice = await session("alice", "sf1", CLEARED_SITE);
      const dan = await session("dan", "d", CLEARED_SITE);
      held.hold(jid("dan"));
      const ids = Array.from({ length: 6 }, (_, i) => `sf1-${i}`);
      await sendRaw(alice, ids.map((id) => chat(jid("dan"), id, `plans ${id}`)).join(""));
      await sleep(800); // the first is asked about (dan's clearance read as it was), the rest wait on it
      await store.setUserClearance(jid("dan"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
      await guard.cacheEpochTold();
      held.open();
      await settled(alice, dan, ids);
      const got = dan.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id);
      // The first was decided before the change (its read); none of those that waited may be.
      assert.ok(got.length === 0 || (got.length === 1 && got[0] === ids[0]), `delivered: ${got.join(",")}`);
      for (const id of ids.slice(1)) {
        const error = alice.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
        assert.ok(error?.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"), id);
      }
      // The sender's count of messages in flight is back to zero: the cache serves it again.
      await servedFromCache(alice, await session("gus", "g", CLEARED_SITE), jid("gus"), "sf1w");
      await alice.stop();
    });

    test(`[${kind}] SF2 (regression, held): the guard gone while messages wait on its question — each refused with wait, none delivered; back, the cache serves the sender again`, async () => {
      const alice = await session("alice", "sf2", CLEARED_SITE);
      const erin = await session("erin", "e", CLEARED_SITE);
      held.hold(jid("erin"));
      const ids = Array.from({ length: 6 }, (_, i) => `sf2-${i}`);
      await sendRaw(alice, ids.map((id) => chat(jid("erin"), id, `plans ${id}`)).join(""));
      await sleep(800);
      const stopped = guard.stop();
      held.open();
      await stopped;
      await settled(alice, erin, ids);
      assert.deepEqual(
        erin.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id),
        [],
        "nothing delivered",
      );
      for (const id of ids) {
        const error = alice.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
        assert.equal(error?.getChild("error")?.attrs.type, "wait", id);
      }
      await startGuard();
      await servedFromCache(alice, erin, jid("erin"), "sf2w");
      await alice.stop();
    });

    test(`[${kind}] SF3: a message that waited on a question not kept is not overtaken by the sender's later messages (RFC 6120 §10.1)`, async () => {
      const alice = await session("alice", "sf3", CLEARED_SITE);
      const fay = await session("fay", "f", CLEARED_SITE);
      held.hold(jid("fay"));
      // 0: asked (the flight); 1: waits on it; 2: unlabelled, another key — asked; 3: the first
      // key again — asked (not every message of the sender in flight is in the flight).
      const ids = ["sf3-0", "sf3-1", "sf3-2", "sf3-3"];
      const labels = [SECRET, SECRET, "", SECRET];
      await sendRaw(alice, ids.map((id, i) => chat(jid("fay"), id, `plans ${id}`, labels[i])).join(""));
      await sleep(800);
      // Any store change while they are decided: a new epoch, the first answer is not kept.
      await store.setUserClearance(jid("carol"), demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED"])));
      await guard.cacheEpochTold();
      held.open();
      await settled(alice, fay, ids);
      const got = fay.received.filter((m) => ids.includes(m.attrs.id ?? "")).map((m) => m.attrs.id ?? "");
      // Each delivered once and in the order sent; one that cannot be (it would come after a later
      // one) is refused with `wait` — never judged, the client may send it again.
      assert.deepEqual(
        got,
        ids.filter((id) => got.includes(id)),
        "delivered in the order sent (RFC 6120 §10.1)",
      );
      assert.equal(new Set(got).size, got.length, "each once");
      for (const id of ["sf3-0", "sf3-2", "sf3-3"]) assert.ok(got.includes(id), `${id} delivered`);
      for (const id of ids.filter((i) => !got.includes(i))) {
        const error = alice.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
        assert.equal(error?.getChild("error")?.attrs.type, "wait", id);
      }
      await alice.stop();
      await fay.stop();
    });

    test(`[${kind}] LS1 (regression, held): a body spelling the label placeholder, served from the cache, is written as text with the guard's one label`, async () => {
      const alice = await session("alice", "ls1", CLEARED_SITE);
      // (A user of its own: gus still has SF1's session open, and a second session of a user whose
      // other session is mid-ack has tripped @xmpp/client's XEP-0198 counting on Prosody.)
      const ivy = await session("ivy", "i", CLEARED_SITE);
      const text = "x<cordon-label-slot/></message><message to='evil'>";
      const escaped = text
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/'/g, "&apos;");
      for (const id of ["ls1-0", "ls1-1", "ls1-2"]) {
        const before = decisions;
        await sendRaw(alice, chat(jid("ivy"), id, escaped));
        const m = await ivy.waitFor((x) => x.attrs.id === id, 8000);
        if (id !== "ls1-0") assert.equal(decisions - before, 0, `${id} served from the cache`);
        assert.equal(m.getChildText("body"), `SECRET\n${text}`);
        assert.equal(m.getChildren("securitylabel", "urn:xmpp:sec-label:0").length, 1);
        assert.ok(
          m.getChildElements().every((c) => c.name !== "message" && c.name !== "cordon-label-slot"),
          `nothing of the text as markup: ${m.toString()}`,
        );
      }
      await alice.stop();
      await ivy.stop();
    });
  });
}
