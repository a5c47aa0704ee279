// The latency the central check adds, measured where it is added (issue 17; packages/guard/src/
// latency-report.ts): each server module times every one-to-one message it holds (cached: served
// from its verdict cache; asked: the guard asked) and each question's round trip, and reports them
// to the guard, whose metrics expose them (cordon_guard_hold_seconds, cordon_guard_round_trip_seconds).
// Real servers, real clients: after messages asked about, served from the cache (one by one and
// waiting on a question out: single flight) and refused, the metrics count each message once, of
// its kind — as many cached holds as the module reported served from its cache, as many asked holds
// and round trips as the guard decided. Nobody but the served server may report. (What is timed is
// never asserted: only what is counted.)
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sendRaw, serverKinds, connectClient, type XmppServer, type TestClient } from "@cordon/harness";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import { xml } from "@cordon/component";
import { createMetrics } from "@cordon/cli/metrics";
import { loadDemo } from "../src/demo.js";
import * as guarded from "../src/guard-fixture.js";

const demo = loadDemo();
const PASSWORD = "hold-pw";

for (const kind of serverKinds()) {
  describe(`the latency the check adds, measured in ${kind} (issue 17)`, () => {
    const domain = `${kind}-ghold.test`;
    const store = new MemoryStore();
    const metrics = createMetrics({ processMetrics: false });
    let server: XmppServer;
    let guard: GuardService;
    let decisions = 0; // the guard's decisions on messages (each one asked about)
    let served = 0; // the messages the module reported it delivered from its cache (cache-report.ts)
    let reports = 0;
    const open: TestClient[] = [];
    let alice: TestClient;
    let bob: TestClient;
    let n = 0;
    const chat = (id: string, body: string, label: string) =>
      `<message to='bob@${domain}' id='${id}' type='chat'><body>${body}</body>${label}</message>`;

    before(async () => {
      server = await guarded.startGuardedServer(kind, {
        demo,
        domain,
        store,
        users: ["alice", "bob"],
        password: PASSWORD,
        // (Reporting every second: the modules' option, cordon_guard_report_seconds / report_interval.)
        guard: { timeoutSeconds: 2, cacheSeconds: 30, reportSeconds: 1 },
      });
      guard = await guarded.startGuard(demo, server, domain, {
        store,
        onDecision: (_outcome, _reason, refresh) => void (refresh || decisions++),
        onCached: (count) => void (served += count),
        // As the `cordon` command's guard runner feeds its metrics (packages/cli/src/runners/guard.ts).
        onLatency: (deltas) => {
          reports++;
          metrics.guardHold.add(deltas);
          metrics.guardRoundTrip.add(deltas);
        },
      });
      alice = await connectClient(server, "alice", PASSWORD, "desk");
      bob = await connectClient(server, "bob", PASSWORD, "phone");
      open.push(alice, bob);
    });

    after(() => guarded.stopGuarded(server, guard, open));

    /** Each histogram's count, +Inf bucket, sum and buckets (from the Prometheus text). */
    async function histogram(name: string, kindLabel: string) {
      const { body } = await metrics.text();
      const value = (re: RegExp) => Number(re.exec(body)?.[1] ?? NaN);
      const buckets = [
        ...body.matchAll(new RegExp(`^${name}_bucket\\{kind="${kindLabel}",le="([^"]+)"\\} (\\S+)$`, "gm")),
      ];
      return {
        count: value(new RegExp(`^${name}_count\\{kind="${kindLabel}"\\} (\\S+)$`, "m")),
        sum: value(new RegExp(`^${name}_sum\\{kind="${kindLabel}"\\} (\\S+)$`, "m")),
        cumulative: buckets.map((m) => Number(m[2])),
        inf: Number(buckets.find((m) => m[1] === "+Inf")?.[2] ?? NaN),
      };
    }
    const counts = async () => ({
      cached: (await histogram("cordon_guard_hold_seconds", "cached")).count,
      asked: (await histogram("cordon_guard_hold_seconds", "asked")).count,
      roundTrip: (await histogram("cordon_guard_round_trip_seconds", "asked")).count,
    });

    /** Sends one message and waits until bob has it (or alice its error); how many decisions it took. */
    async function sent(body: string, label: string, refused = false) {
      const before = decisions;
      const id = `h${++n}`;
      await sendRaw(alice, chat(id, body, label));
      if (refused) await alice.waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000);
      else await bob.waitFor((m) => m.attrs.id === id, 8000);
      return decisions - before;
    }

    test(`[${kind}] each message held is counted once, of its kind: cached as served from the cache, asked as decided, a round trip per question`, async () => {
      const SECRET = demo.labelXml(demo.label("SECRET"));
      const CONFIDENTIAL = demo.labelXml(demo.label("CONFIDENTIAL"));
      const TOP_SECRET = demo.labelXml(demo.label("TOP SECRET"));
      assert.deepEqual(await counts(), { cached: 0, asked: 0, roundTrip: 0 }, "nothing held yet");
      // Asked about, then served from the cache (same key), twice.
      assert.equal(await sent("one", SECRET), 1);
      assert.equal(await sent("two", SECRET), 0, "served from the cache");
      assert.equal(await sent("three", SECRET), 0, "served from the cache");
      // Unlabelled: another key, asked about.
      assert.equal(await sent("lunch", ""), 1);
      // Refused (above the recipient's clearance): asked about, never cached.
      assert.equal(await sent("too high", TOP_SECRET, true), 1);
      // A burst of one new key written in one go: the first asked about, the others wait on its
      // answer (single flight) — each counted once, whichever way it went.
      const before = decisions;
      const ids = ["b0", "b1", "b2", "b3"];
      await sendRaw(alice, ids.map((id) => chat(id, `burst ${id}`, CONFIDENTIAL)).join(""));
      await bob.waitFor((m) => m.attrs.id === "b3", 8000);
      assert.equal(bob.received.filter((m) => ids.includes(m.attrs.id ?? "")).length, 4);
      assert.ok(decisions - before >= 1);
      const asked = decisions;
      // Every message went one way or the other: asked about, or served from the cache.
      const total = 3 + 1 + 1 + 4;
      for (let t = 0; t < 150 && served + asked < total; t++) await guarded.sleep(100);
      assert.equal(served + asked, total, "each message asked about or served from the cache");
      assert.ok(served >= 2, "served from the cache");
      // The module's next report (every second here) carries them all.
      let now = await counts();
      for (let t = 0; t < 150 && (now.cached < served || now.asked < asked || now.roundTrip < asked); t++) {
        await guarded.sleep(100);
        now = await counts();
      }
      assert.ok(reports >= 1, "the module reported");
      assert.deepEqual(now, { cached: served, asked, roundTrip: asked });
      // A histogram as Prometheus reads one: 32 cumulative buckets, the last (+Inf) the count, a sum.
      for (const [name, k] of [
        ["cordon_guard_hold_seconds", "cached"],
        ["cordon_guard_hold_seconds", "asked"],
        ["cordon_guard_round_trip_seconds", "asked"],
      ] as const) {
        const h = await histogram(name, k);
        assert.equal(h.cumulative.length, 32, `${name} ${k}`);
        assert.ok(
          h.cumulative.every((v, i) => i === 0 || v >= (h.cumulative[i - 1] as number)),
          "cumulative",
        );
        assert.equal(h.inf, h.count);
        assert.ok(h.sum > 0 && Number.isFinite(h.sum), `${name} ${k}: a sum of the times`);
      }
      // Nothing more is held: a report period later the counts are the same (each counted once).
      await guarded.sleep(2_500);
      assert.deepEqual(await counts(), now);
    });

    test(`[${kind}] only the served server reports: a user's report is refused (forbidden), a malformed one too, and neither counts`, async () => {
      const before = await counts();
      const reportsBefore = reports;
      for (const h of [
        xml("h", { of: "hold", kind: "cached", us: "5", b: "3:1000" }),
        xml("h", { of: "hold", kind: "asked", us: "-5", b: "99:1" }),
      ])
        await assert.rejects(
          alice.iq(
            xml(
              "iq",
              { type: "set", to: `guard.${domain}` },
              xml("latency", { xmlns: "urn:cordon:guard:0" }, h),
            ),
          ),
          (e: Error) => e.message.startsWith("iq error forbidden"),
        );
      assert.equal(reports, reportsBefore);
      assert.deepEqual(await counts(), before);
    });
  });
}
