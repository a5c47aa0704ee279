// The verdict cache while a sender keeps writing (issue 17, performance; docs/performance.md §4):
// a verdict in use does not lapse under a stream of messages. On ejabberd an expired verdict made
// the next message asked about and every later one of the sender wait behind it (RFC 6120 §10.1),
// past 64 waiting each asked about itself — a burst just after expiry cost one question per
// message (bench/one-to-one.mjs: 8 to 1,367 questions per 8,000 messages, load dependent); a
// verdict in its last quarter of life is now asked about again while still used
// (mod_cordon_guard.erl refresh_ahead/6). Prosody holds a session's messages in a queue and serves
// those behind a question from the cache in their turn. Either way every message is delivered
// once, in order, as decided, and the guard is asked a few times, not per message.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { xml } from "@cordon/component";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "stream-pw";
const CACHE_SECONDS = 4;
const BURST = 150;
const SLOW_MS = 60;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of serverKinds()) {
  describe(`the verdict cache under a steady stream on ${kind} (issue 17)`, () => {
    const domain = `${kind}-gstream.test`;
    let server: XmppServer;
    const store = new MemoryStore();
    let guard: GuardService;
    let decisions = 0; // on messages
    let refreshes = 0; // asked ahead of a kept verdict's end (ejabberd), counted apart
    const open: TestClient[] = [];
    const SECRET = demo.labelXml(demo.label("SECRET"));

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob"],
        password: PASSWORD,
        guard: { timeoutSeconds: 2, cacheSeconds: CACHE_SECONDS },
      });
      // A guard that takes SLOW_MS per decision (its clearance reads slowed): a question is still
      // out while a burst's messages arrive behind it, as on a loaded machine.
      const users = new Proxy(store, {
        get(target, key) {
          const v: unknown = Reflect.get(target, key, target);
          if (key === "getUserClearance")
            return async (...a: Parameters<MemoryStore["getUserClearance"]>) => {
              await delay(SLOW_MS);
              return target.getUserClearance(...a);
            };
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      guard = await guarded.startGuard(
        demo,
        server,
        domain,
        { store, users, onDecision: (_a, _r, refresh) => void (refresh ? refreshes++ : decisions++) },
        false,
      );
      for (const user of ["alice", "bob"]) {
        const client = await connectClient(server, user, PASSWORD, "s", { presence: false });
        await client.send(xml("presence"));
        open.push(client);
      }
      await guard.cacheEpochTold();
    });

    after(() => guarded.stopGuarded(server, guard, open));

    test(`[${kind}] bursts in a verdict's last quarter of life and just past it: each message once, in order, as decided; a few questions`, async () => {
      const [alice, bob] = open as [TestClient, TestClient];
      const chat = (id: string) =>
        `<message to='bob@${domain}' id='${id}' type='chat'><body>burst ${id}</body>${SECRET}</message>`;
      const before = decisions;
      await sendRaw(alice, chat("warm"));
      await bob.waitFor((m) => m.attrs.id === "warm", 8000);
      const kept = Date.now(); // (the verdict was kept just before: its life ends ≈ 4 s from here)
      const ids: string[] = [];
      for (const at of [0.85, 1.12]) {
        // 0.85: in the last quarter (refreshed ahead on ejabberd); 1.12: past the first verdict's life.
        await delay(Math.max(0, kept + at * CACHE_SECONDS * 1000 - Date.now()));
        const burst = Array.from({ length: BURST }, (_, i) => `b${at}-${i}`);
        ids.push(...burst);
        await sendRaw(alice, burst.map(chat).join(""));
      }
      await bob.waitFor((m) => m.attrs.id === ids.at(-1), 20_000);
      await delay(300);
      const got = bob.received.filter((m) => m.name === "message" && ids.includes(m.attrs.id ?? ""));
      assert.deepEqual(
        got.map((m) => m.attrs.id),
        ids,
        "each once, in the order sent",
      );
      for (const m of got)
        assert.equal(m.getChildText("body"), `SECRET\nburst ${m.attrs.id}`, "FLOT as decided");
      assert.equal(alice.received.filter((m) => m.attrs.type === "error").length, 0, "none refused");
      // warm-up, a refresh or an expiry, and room for a slow machine — not one per message.
      const asked = decisions - before;
      assert.ok(asked <= 6, `${asked} questions for ${ids.length + 1} messages`);
      // ejabberd renews a verdict in its last quarter of life ahead (the burst at 0.85 was served
      // from it meanwhile): told apart, so no message is counted both as served and as decided.
      if (kind === "ejabberd") assert.ok(refreshes >= 1, `${refreshes} refreshes told apart`);
      else assert.equal(refreshes, 0);
    });
  });
}
