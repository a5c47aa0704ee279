// The bound on messages waiting for one question (issue 17, session 17; docs/performance.md §4
// "Session 17"). A sender writes far more messages of one key than fit behind a question still
// out (the guard slow): ejabberd parks at most 1,024 per flight and 1 MiB per sender with the
// cache table's owner, Prosody holds at most 1,024 per session (MAX_HELD); past that a message is
// refused with `wait`. Before (integ's ejabberd module) a message past 64 parked was asked about
// itself, and so was every later one of the sender (one in flight outside the flight): one question
// per message, refused past the guard's own per-sender bound — the renewal chain. Asserted by
// counts only: the guard asked a few times, each message delivered once and in order as decided or
// refused with `wait`, nothing else.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";
import { slowedUsers, connectWithPresence } from "../src/stream-fixture.js";

const demo = loadDemo();
const PASSWORD = "park-pw";
const SLOW_MS = 3000;
const BURST = 1200;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of serverKinds()) {
  describe(`the bound on messages waiting for one question on ${kind} (issue 17)`, () => {
    const domain = `${kind}-gpark.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    let decisions = 0;
    const open: TestClient[] = [];
    const SECRET = demo.labelXml(demo.label("SECRET"));

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob"],
        password: PASSWORD,
        guard: { timeoutSeconds: 20, cacheSeconds: 60 },
      });
      // Every decision reads the recipient's clearance in SLOW_MS (no answer of this source kept).
      const users = slowedUsers(store, SLOW_MS, true);
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, users, onDecision: (_a, _r, refresh) => void (refresh || decisions++) },
        false,
      );
      open.push(...(await connectWithPresence(server, ["alice", "bob"], PASSWORD)));
      await guard.cacheEpochTold();
    });

    after(() => guarded.stopGuarded(server, guard, open));

    test(`[${kind}] ${BURST} messages of one key behind one question: a few questions; each delivered once in order as decided, or refused with wait`, async () => {
      const [alice, bob] = open as [TestClient, TestClient];
      const chat = (id: string) =>
        `<message to='bob@${domain}' id='${id}' type='chat'><body>park ${id}</body>${SECRET}</message>`;
      const ids = Array.from({ length: BURST }, (_, i) => `p${i}`);
      await sendRaw(alice, ids.map(chat).join(""));
      const settled = (id: string) =>
        bob.received.some((m) => m.attrs.id === id) ||
        alice.received.some((m) => m.attrs.id === id && m.attrs.type === "error");
      for (let t = 0; t < 600 && !ids.every(settled); t++) await delay(100);
      await delay(300);
      const got = bob.received.filter((m) => m.name === "message" && ids.includes(m.attrs.id ?? ""));
      const refused = alice.received.filter(
        (m) => m.attrs.type === "error" && ids.includes(m.attrs.id ?? ""),
      );
      const gotIds = got.map((m) => m.attrs.id ?? "");
      assert.deepEqual(
        gotIds,
        ids.filter((id) => gotIds.includes(id)),
        "delivered in the order sent",
      );
      assert.equal(new Set(gotIds).size, gotIds.length, "each delivered once");
      for (const m of got)
        assert.equal(m.getChildText("body"), `SECRET\npark ${m.attrs.id}`, "FLOT as decided");
      for (const e of refused)
        assert.equal(e.getChild("error")?.attrs.type, "wait", "refused: try again later");
      assert.equal(got.length + refused.length, BURST, "each delivered or refused, once");
      assert.ok(got.length >= 1, "the first delivered");
      // One question and those waiting on it served from its answer — not one per message.
      assert.ok(decisions <= 3, `${decisions} questions for ${BURST} messages`);
      console.log(
        `# ${kind}: ${got.length} delivered, ${refused.length} refused (wait), ${decisions} questions`,
      );
    });
  });
}
