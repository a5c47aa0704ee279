// The central check (issue 17) across a session's and the module's life on Prosody 0.12: what the
// module holds — a verdict kept in its cache, messages held for a decision — must never outlive
// what it was decided for. Real Prosody, real clients over sockets; 127.0.0.1 is a site cleared
// for everything. Prosody only: each defect was in deploy/prosody/modules/mod_cordon_guard.lua's
// own machinery (its queue of held messages, its reload, mod_smacks' resumption).
// - RS4 (review adv53): a clearance lowered while a session slept, still granting the access label:
//   the SECRET message queued for it was replayed on resumption, as decided when queued. Now a
//   resumption whose queue holds an unacknowledged message is refused; the queue goes to offline
//   storage, decided again. RS5: two resumptions of one slept session at once, neither replays.
// - EX1: a message served from the verdict cache but held behind a question (the sender's earlier
//   message still being decided) was applied when its turn came with the epoch and guard session
//   checked, not the kept verdict's expiry (`cordon_guard_cache_seconds`): a clearance lowered in
//   a directory that tells no change (so no new epoch) was still decided by the old verdict,
//   seconds after it expired, when the guard asked then refuses it. Now refused with `wait` (the
//   client may send it again; asked about then).
import { describe, test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { connectClient, sendRaw, RawClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore, type UserClearanceSource } from "@cordon/store";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadDemo } from "../src/demo.js";
import { GUARD_ALL as ALL, UNCLASSIFIED_SITE, sleep } from "../src/guard-fixture.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "lifecycle-pw";
const SITE = "127.0.0.1";
const SECRET = demo.labelXml(demo.label("SECRET"));

/** Waits until `done()` or `ms` passed. */
async function until(done: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && !done();) await sleep(50);
}

describe("a kept verdict past its expiry, held behind a question, on prosody (issue 17)", () => {
  const kind = "prosody" as const;
  const domain = `${kind}-lifecycle-ex.test`;
  let server: XmppServer;
  let guard: GuardService;
  const open: TestClient[] = [];
  const jid = (u: string) => `${u}@${domain}`;
  const chat = (to: string, id: string, body: string) =>
    `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`;
  // A directory that tells no change (no subscription): the guard's cache epoch stays as it is, and
  // only the module's expiry bounds how long a kept verdict is used.
  const directory = new MemoryStore();
  let gated: string | undefined;
  let gate: Promise<void> = Promise.resolve();
  const users: UserClearanceSource = {
    getUserClearance: async (who, policy) => {
      const read = await directory.getUserClearance(who, policy);
      if (who === gated) await gate;
      return read;
    },
    subscribe: () => () => undefined,
  };
  let decisions = 0;

  before(async () => {
    server = await guarded.startGuardedServer(kind, {
      demo,
      domain,
      store: directory,
      users: ["alice", "bob", "carol"],
      password: PASSWORD,
      guard: { timeoutSeconds: 8, cacheSeconds: 1 },
    });
    guard = await guarded.startGuard(demo, server, domain, {
      store: new MemoryStore(),
      users,
      onDecision: () => void decisions++,
    });
  });

  after(async () => {
    await guarded.stopGuarded(server, guard, open);
  });

  test(`[${kind}] EX1: a cached verdict that expired while its message waited behind a question is not applied`, async () => {
    const alice = await connectClient(server, "alice", PASSWORD, "ex1", { localAddress: SITE });
    const bob = await connectClient(server, "bob", PASSWORD, "ex1", { localAddress: SITE });
    const carol = await connectClient(server, "carol", PASSWORD, "ex1", { localAddress: SITE });
    open.push(alice, bob, carol);
    // The verdict for this shape is kept (asked once, then served from the cache).
    for (const [i, asked] of [[0, 1] as const, [1, 0] as const]) {
      const before = decisions;
      await sendRaw(alice, chat(jid("bob"), `ex1-w${i}`, `plans ${i}`));
      await bob.waitFor((m) => m.attrs.id === `ex1-w${i}`, 8000);
      assert.equal(decisions - before, asked, `ex1-w${i}`);
    }
    // bob's clearance lowered in the directory (no change told: the same epoch; the guard's own
    // reading of it, made for ex1-w0, is reused for 5 s — ClearanceReader's maxAgeMs).
    await directory.setUserClearance(jid("bob"), demo.raw(demo.clearance(["UNCLASSIFIED"])));
    // q: to carol, whose clearance the guard has not read yet — its decision held at the gate;
    // c: to bob in the kept shape, served from the cache but behind q in alice's queue.
    let release: () => void = () => undefined;
    gate = new Promise((r) => (release = r));
    gated = jid("carol");
    await sendRaw(alice, chat(jid("carol"), "ex1-q", "question") + chat(jid("bob"), "ex1-c", "plans c"));
    // Held past the kept verdict's expiry (1 s) and past the guard's reading of bob's clearance.
    await sleep(5500);
    gated = undefined;
    release();
    await until(() => carol.received.some((m) => m.attrs.id === "ex1-q"));
    await until(() => alice.received.some((m) => m.attrs.id === "ex1-c"), 3000);
    await sleep(300);
    assert.deepEqual(
      bob.received.filter((m) => m.attrs.id === "ex1-c").map((m) => m.attrs.id),
      [],
      "nothing SECRET delivered to bob by a verdict past its expiry",
    );
    const refusal = alice.received.find((m) => m.attrs.id === "ex1-c" && m.attrs.type === "error");
    assert.ok(refusal, "ex1-c refused to the sender");
    assert.ok(!refusal.toString().includes("plans"), "the error echoes nothing");
    assert.equal(
      refusal.getChild("error")?.attrs.type,
      "wait",
      "refused with wait: not judged, may be sent again",
    );
    // Sent again, it is asked about: the guard reads bob's clearance as it is now and refuses it.
    await sendRaw(alice, chat(jid("bob"), "ex1-d", "plans d"));
    const forbidden = await alice.waitFor((m) => m.attrs.id === "ex1-d" && m.attrs.type === "error", 8000);
    assert.ok(forbidden.getChild("error")?.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    assert.ok(!bob.received.some((m) => m.attrs.id === "ex1-d"));
  });
});

describe("XEP-0198 resumption and the server access label, on prosody (issue 17)", () => {
  const kind = "prosody" as const;
  const domain = `${kind}-lifecycle-rs.test`;
  let server: XmppServer;
  let guard: GuardService | undefined;
  const store = new MemoryStore();
  const open: TestClient[] = [];
  const raws: RawClient[] = [];
  const jid = (u: string) => `${u}@${domain}`;
  const chat = (to: string, id: string, body: string) =>
    `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`;

  async function startGuard() {
    guard = await guarded.startGuard(demo, server, domain, {
      store,
      accessLabel: demo.label("CONFIDENTIAL"),
    });
  }

  /** A raw session of `user`, bound with resumption enabled, then dropped (hibernated): its resumption id. */
  async function hibernated(user: string, resource: string): Promise<string> {
    const first = await RawClient.open(server.c2sPort, SITE);
    raws.push(first);
    await first.login(domain, user, PASSWORD);
    const previd = await first.bindResumable(resource);
    await sleep(300);
    first.drop();
    await sleep(500);
    return previd;
  }

  /** A new connection of `user` asking to resume `previd` (XEP-0198 §5): what it read by then. */
  async function resume(user: string, previd: string, answer: RegExp): Promise<RawClient> {
    const back = await RawClient.open(server.c2sPort, SITE);
    raws.push(back);
    await back.login(domain, user, PASSWORD);
    back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
    await back.until(answer);
    return back;
  }

  before(async () => {
    server = await guarded.startGuardedServer(
      kind,
      {
        demo,
        domain,
        store,
        users: ["alice", "bob", "carol", "dan", "erin", "fay"],
        password: PASSWORD,
        guard: { timeoutSeconds: 2, access: true },
      },
      { extraModules: ["smacks"] },
    );
    await startGuard();
  });

  // Each test's clients only: alice's sessions of earlier tests gone (@xmpp/client's XEP-0198 acks
  // went wrong with many of one user's sessions online — Prosody then closed one mid-test).
  beforeEach(async () => {
    for (const client of open.splice(0)) await client.stop().catch(() => undefined);
  });

  after(async () => {
    for (const raw of raws) raw.close();
    await guarded.stopGuarded(server, guard, open);
  });

  test(`[${kind}] RS1: a user still cleared resumes a session with nothing to replay; one with messages queued while it slept binds afresh and gets them, decided again`, async () => {
    const alice = await connectClient(server, "alice", PASSWORD, "rs1", { localAddress: SITE });
    open.push(alice);
    // Nothing queued while asleep: resumed (XEP-0198 §5), the access check asked again.
    const quiet = await hibernated("bob", "rs1q");
    const resumed = await resume("bob", quiet, /<(resumed|failed)\b/);
    assert.match(resumed.text, /<resumed\b/);
    resumed.write("</stream:stream>"); // (ended, not left hibernating: bob's only session below)
    await sleep(500);
    resumed.close();
    // A message queued while asleep: the resumption fails (guard-lifecycle RS4), and the message
    // comes from offline storage once bob binds afresh, asked about again and delivered.
    const previd = await hibernated("bob", "rs1");
    await sendRaw(alice, chat(jid("bob"), "rs1-a", "plans rs1"));
    await sleep(500);
    const back = await resume("bob", previd, /<(resumed|failed)\b/);
    await sleep(500);
    assert.match(back.text, /<failed\b/);
    assert.ok(!back.text.includes("plans rs1"), "not replayed as decided when queued");
    const fresh = await connectClient(server, "bob", PASSWORD, "rs1b", { localAddress: SITE });
    open.push(fresh);
    const got = await fresh.waitFor((m) => m.attrs.id === "rs1-a", 8000);
    assert.ok(got.toString().includes("plans rs1"), "delivered from offline storage, decided again");
  });

  test(`[${kind}] RS2: a user whose clearance no longer grants the access label cannot resume — nothing replayed, the slept session ended`, async () => {
    const alice = await connectClient(server, "alice", PASSWORD, "rs2", { localAddress: SITE });
    open.push(alice);
    const previd = await hibernated("carol", "rs2");
    // Queued for the sleeping session (decided while carol was cleared).
    await sendRaw(alice, chat(jid("carol"), "rs2-a", "plans rs2"));
    await sleep(500);
    await store.setUserClearance(jid("carol"), demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED"])));
    await guard!.cacheEpochTold();
    const back = await resume("carol", previd, /<failed\b[\s\S]*?(<\/failed>|\/>)/);
    await sleep(1000);
    assert.match(
      back.text,
      /<failed\b[^>]*>\s*<not-allowed xmlns=["']urn:ietf:params:xml:ns:xmpp-stanzas["']/,
    );
    assert.doesNotMatch(back.text, /<resumed\b/);
    assert.ok(!back.text.includes("plans"), `nothing replayed: ${back.text.slice(0, 400)}`);
    // The slept session is gone, not left for another try: cleared again, the id is unknown.
    await store.setUserClearance(jid("carol"), demo.raw(demo.clearance(ALL)));
    await guard!.cacheEpochTold();
    const again = await resume("carol", previd, /<failed\b/);
    await sleep(300);
    assert.match(again.text, /item-not-found/);
    assert.ok(!again.text.includes("plans"));
  });

  test(`[${kind}] RS4: a clearance lowered while the session slept (the access label still granted) — the queue is not replayed as decided when queued`, async () => {
    const alice = await connectClient(server, "alice", PASSWORD, "rs4", { localAddress: SITE });
    open.push(alice);
    const previd = await hibernated("erin", "rs4");
    // Queued for the sleeping session, decided while erin was cleared for SECRET.
    await sendRaw(alice, chat(jid("erin"), "rs4-a", "plans rs4"));
    const UNCLASSIFIED = demo.labelXml(demo.label("UNCLASSIFIED"));
    await sendRaw(
      alice,
      `<message to='${jid("erin")}' id='rs4-u' type='chat'><body>lunch rs4</body>${UNCLASSIFIED}</message>`,
    );
    await sleep(500);
    // Lowered below SECRET, still granting the access label (CONFIDENTIAL): the resumption itself is allowed.
    await store.setUserClearance(
      jid("erin"),
      demo.raw(demo.clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"])),
    );
    await guard!.cacheEpochTold();
    const back = await resume("erin", previd, /<(resumed|failed)\b/);
    await sleep(1000);
    assert.ok(
      !back.text.includes("plans"),
      `SECRET not replayed to a user no longer cleared: ${back.text.slice(0, 600)}`,
    );
    assert.doesNotMatch(
      back.text,
      /<resumed\b/,
      "the resumption fails: its queue was decided for another clearance",
    );
    assert.match(
      back.text,
      /<failed\b[^>]*>\s*<not-allowed xmlns=["']urn:ietf:params:xml:ns:xmpp-stanzas["']/,
    );
    // Bound afresh: what was queued comes from offline storage, decided again — the UNCLASSIFIED
    // message delivered, the SECRET one not (erin's clearance now).
    const fresh = await connectClient(server, "erin", PASSWORD, "rs4b", { localAddress: SITE });
    open.push(fresh);
    await fresh.waitFor((m) => m.attrs.id === "rs4-u", 8000);
    await sleep(500);
    assert.deepEqual(
      fresh.received.filter((m) => m.toString().includes("plans")).map((m) => m.attrs.id),
      [],
      "nothing SECRET after binding afresh",
    );
  });

  test(`[${kind}] RS5: two connections resume the same slept session at once — neither gets what was queued as decided then; a fresh bind gets it once`, async () => {
    const alice = await connectClient(server, "alice", PASSWORD, "rs5", { localAddress: SITE });
    open.push(alice);
    const previd = await hibernated("fay", "rs5");
    await sendRaw(alice, chat(jid("fay"), "rs5-a", "plans rs5"));
    await sleep(500);
    const [one, two] = await Promise.all(
      [0, 1].map(async () => {
        const back = await RawClient.open(server.c2sPort, SITE);
        raws.push(back);
        await back.login(domain, "fay", PASSWORD);
        return back;
      }),
    );
    for (const back of [one!, two!]) back.write(`<resume xmlns='urn:xmpp:sm:3' previd='${previd}' h='0'/>`);
    await Promise.all([one!, two!].map((back) => back.until(/<(resumed|failed)\b/)));
    await sleep(1000);
    for (const back of [one!, two!]) {
      assert.doesNotMatch(back.text, /<resumed\b/);
      assert.ok(!back.text.includes("plans"), "nothing replayed");
    }
    const fresh = await connectClient(server, "fay", PASSWORD, "rs5b", { localAddress: SITE });
    open.push(fresh);
    await fresh.waitFor((m) => m.attrs.id === "rs5-a", 8000);
    await sleep(500);
    assert.equal(
      fresh.received.filter((m) => m.attrs.id === "rs5-a").length,
      1,
      "once, from offline storage",
    );
  });

  test(`[${kind}] RS3: Cordon stopped — no resumption (fail closed), nothing replayed`, async () => {
    const alice = await connectClient(server, "alice", PASSWORD, "rs3", { localAddress: SITE });
    open.push(alice);
    const previd = await hibernated("dan", "rs3");
    await sendRaw(alice, chat(jid("dan"), "rs3-a", "plans rs3"));
    await sleep(500);
    await guard!.stop();
    guard = undefined;
    try {
      const back = await resume("dan", previd, /<failed\b/);
      await sleep(1000);
      assert.match(back.text, /not-allowed/);
      assert.doesNotMatch(back.text, /<resumed\b/);
      assert.ok(!back.text.includes("plans"), "nothing replayed");
    } finally {
      await startGuard();
    }
  });
});

describe("mod_cordon_guard reloaded with messages held, on prosody (issue 17)", () => {
  const kind = "prosody" as const;
  const domain = `${kind}-lifecycle-rl.test`;
  let server: XmppServer;
  let guard: GuardService;
  const store = new MemoryStore();
  const open: TestClient[] = [];
  const jid = (u: string) => `${u}@${domain}`;
  const chat = (to: string, id: string, body: string) =>
    `<message to='${to}' id='${id}' type='chat'><body>${body}</body>${SECRET}</message>`;
  const slow = new guarded.ClearanceGate();
  const users = slow.users(store);
  let decisions = 0;

  /** Runs `command` in Prosody's admin shell (mod_admin_shell), as guard-cache-attack3 RE6 does. */
  const shell = (command: string) =>
    promisify(execFile)("prosodyctl", ["--config", join(server.dir, "prosody.cfg.lua"), "shell", command], {
      timeout: 10_000,
    });

  const session = (user: string, resource: string, site = SITE) =>
    guarded.openSession(server, open, PASSWORD, user, resource, site);

  before(async () => {
    server = await guarded.startGuardedServer(
      kind,
      {
        demo,
        domain,
        store,
        users: ["alice", "bob", "erin", "fay"],
        password: PASSWORD,
        guard: { timeoutSeconds: 5, cacheSeconds: 60 },
      },
      { extraModules: ["admin_shell"] },
    );
    guard = await guarded.startGuard(demo, server, domain, {
      store,
      users,
      onDecision: () => void decisions++,
      locations: guarded.twoSites(demo, SITE),
    });
  });

  after(async () => {
    await guarded.stopGuarded(server, guard, open);
  });

  test(`[${kind}] RL1: messages held for a decision when the module is reloaded are decided or refused with wait; later ones flow`, async () => {
    const alice = await session("alice", "rl1");
    const erin = await session("erin", "rl1");
    // erin's clearance not read yet: the guard's decisions about her wait at the gate.
    slow.hold(jid("erin"));
    const held = ["rl1-a", "rl1-b", "rl1-c"];
    await sendRaw(alice, held.map((id) => chat(jid("erin"), id, `plans ${id}`)).join(""));
    await sleep(500);
    await shell(`module:reload("cordon_guard", "${domain}")`);
    slow.open();
    const settled = () =>
      held.every(
        (id) =>
          erin.received.some((m) => m.attrs.id === id) ||
          alice.received.some((m) => m.attrs.id === id && m.attrs.type === "error"),
      );
    await until(settled, 12_000);
    assert.ok(settled(), "each held message delivered (decided) or refused to its sender");
    for (const id of held) {
      const error = alice.received.find((m) => m.attrs.id === id && m.attrs.type === "error");
      if (!error) continue;
      assert.equal(error.getChild("error")?.attrs.type, "wait", `${id} refused with wait`);
      assert.ok(!error.toString().includes("plans"), "the error echoes nothing");
    }
    // Later messages flow, each asked about by the new instance.
    const before = decisions;
    await sendRaw(alice, chat(jid("erin"), "rl1-d", "plans rl1-d"));
    await erin.waitFor((m) => m.attrs.id === "rl1-d", 8000);
    assert.ok(decisions > before, "asked about");
  });

  test(`[${kind}] RL2: after a reload, sessions bound before it still get only what the guard decided for each`, async () => {
    const alice = await session("alice", "rl2");
    const desk = await session("fay", "desk");
    const annex = await session("fay", "annex", UNCLASSIFIED_SITE);
    await shell(`module:reload("cordon_guard", "${domain}")`);
    await sleep(500);
    for (const id of ["rl2-a", "rl2-b", "rl2-c"]) await sendRaw(alice, chat(jid("fay"), id, `plans ${id}`));
    await desk.waitFor((m) => m.attrs.id === "rl2-c", 8000);
    await sendRaw(alice, `<message to='${jid("fay")}' id='rl2-u' type='chat'><body>lunch</body></message>`);
    await annex.waitFor((m) => m.attrs.id === "rl2-u", 8000);
    await sleep(300);
    assert.deepEqual(
      annex.received.filter((m) => m.toString().includes("plans")).map((m) => m.attrs.id),
      [],
      "nothing SECRET at the uncleared site",
    );
  });
});
