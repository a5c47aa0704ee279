// The relay's decision from cached clearances (issue 19 goal 4: synchronous when every answer is
// cached) against changes and outages, on real Prosody (px.test, TLPX) and real ejabberd (ex.test,
// TLP) with a real Redis store — an adversarial review (adv42): a clearance lowered or revoked
// while its answer is cached is seen by the next stanza; with Redis killed, nothing is granted
// from an answer cached before (the store's "down" empties the cache; every lookup is unknown,
// fail closed); everything crosses again when Redis is back, without a restart. Each test name
// carries the server on the sending side.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startRedis,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { parseElement } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { RedisStore } from "@cordon/store";
import { createRelay, MemoryAuditSink, type Relay } from "@cordon/relay";
import {
  TLP,
  TLPX,
  NS_SL,
  loadTlpPolicies,
  startPeerServers,
  tlpClearance as clearance,
  tlpLabel as label,
  tlpPeering,
  xmlValue as raw,
} from "../src/relay-fixture.js";

const SECRET = "relay-outage-secret";

describe("relay: cached clearances against changes and a Redis outage (Prosody ↔ ejabberd)", () => {
  let px: XmppServer, ex: XmppServer;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let store: RedisStore;
  let relay: Relay;
  const c: Record<string, TestClient> = {};
  const registry = new PolicyRegistry();
  let n = 0;

  before(async () => {
    redis = await startRedis({ persistent: true });
    [px, ex] = await startPeerServers(
      { domain: "px.test", users: ["alice"] },
      { domain: "ex.test", users: ["bob"] },
      SECRET,
    );
    loadTlpPolicies(registry);
    store = new RedisStore({ url: redis.url, prefix: "relay-outage", cacheTtlMs: 200 });
    await store.ready(5000);
    await store.setUserClearance("alice@px.test", raw(clearance(TLPX, [10, 11, 12])));
    await store.setUserClearance("bob@ex.test", raw(clearance(TLP, [10, 11, 12])));
    const peering = tlpPeering("outage", px, "px.test", ex, "ex.test", SECRET);
    relay = createRelay({
      peerings: [peering],
      registry,
      store,
      audit: new MemoryAuditSink(),
      reconnect: { initialMs: 100, maxMs: 1000 },
    });
    await relay.start();
    c.alice = await connectClient(px, "alice", "pw");
    c.bob = await connectClient(ex, "bob", "pw");
  });

  after(async () => {
    await Promise.allSettled(Object.values(c).map((client) => client.stop()));
    await relay?.stop();
    await store?.close().catch(() => undefined);
    await Promise.allSettled([px, ex].map((s) => s?.stop()));
    await redis?.stop();
  });

  /** Sends an AMBER (12; TLPX: [TO:PARTNERS]) message; "received", or the error's condition (nothing else in it). */
  async function amber(from: "alice" | "bob"): Promise<string> {
    const [to, domain, policy] = from === "alice" ? ["bob", "ex.test", TLPX] : ["alice", "px.test", TLP];
    const id = `${from}-${++n}`;
    await c[from]!.send(
      xml(
        "message",
        { type: "chat", to: `${to}@${domain}`, id },
        xml("body", {}, `amber ${id}`),
        parseElement(
          `<securitylabel xmlns='${NS_SL}'><displaymarking>X</displaymarking><label>${label(policy, 12, policy === TLPX ? [0] : [])}</label></securitylabel>`,
        ),
      ),
    );
    return Promise.race([
      c[to]!.waitFor(
        (el) => el.name === "message" && el.attrs.id === id && el.attrs.type !== "error",
        8000,
      ).then(() => "received"),
      c[from]!.waitFor(
        (el) => el.name === "message" && el.attrs.id === id && el.attrs.type === "error",
        8000,
      ).then((el: Element) => {
        assert.deepEqual(
          el.getChildElements().map((e) => e.name),
          ["error"],
          `nothing but the error: ${el.toString()}`,
        );
        assert.ok(!el.toString().includes("amber"), "no body echoed");
        return el.getChild("error")?.getChildElements()[0]?.name ?? "?";
      }),
    ]);
  }

  test("[prosody] and [ejabberd]: a clearance lowered or revoked while cached is seen by the next stanza", async () => {
    // Twice each: the second is decided from cached answers (the synchronous path).
    for (const from of ["alice", "bob", "alice", "bob"] as const)
      assert.equal(await amber(from), "received", `${from} ${JSON.stringify(relay.metrics())}`);
    // alice (sender outbound, recipient inbound) lowered to GREEN: refused both ways at once.
    await store.setUserClearance("alice@px.test", raw(clearance(TLPX, [10, 11])));
    assert.equal(await amber("alice"), "forbidden");
    assert.equal(await amber("bob"), "forbidden");
    await store.setUserClearance("alice@px.test", raw(clearance(TLPX, [10, 11, 12])));
    assert.equal(await amber("alice"), "received");
    assert.equal(await amber("bob"), "received");
    // Revoked: the nil clearance.
    await store.deleteUserClearance("alice@px.test");
    assert.equal(await amber("alice"), "forbidden");
    assert.equal(await amber("bob"), "forbidden");
    await store.setUserClearance("alice@px.test", raw(clearance(TLPX, [10, 11, 12])));
    for (const from of ["alice", "bob", "alice", "bob"] as const)
      assert.equal(await amber(from), "received", from);
  });

  test("[prosody] and [ejabberd]: with Redis down nothing is granted from a cached answer; all crosses again when it is back", async () => {
    // Warm: every answer cached.
    for (const from of ["alice", "bob", "alice", "bob"] as const)
      assert.equal(await amber(from), "received", from);
    await redis.kill();
    // The store reports its connection lost (the relay's cache is emptied), well within the
    // reader's 5 s answer age: a grant now would come from an answer cached before the outage.
    await new Promise((r) => setTimeout(r, 500));
    for (const from of ["alice", "bob", "alice", "bob"] as const) {
      const outcome = await amber(from);
      assert.notEqual(outcome, "received", `${from}: granted while the store is down`);
    }
    await redis.restart();
    await store.ready(10_000);
    const deadline = Date.now() + 10_000;
    let outcome = "";
    while ((outcome = await amber("alice")) !== "received" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(outcome, "received", "alice's crosses again");
    for (const from of ["bob", "alice", "bob"] as const) assert.equal(await amber(from), "received", from);
    // Refused because the store could not answer (fail closed), in both directions.
    const m = relay.metrics()["outage"]!;
    for (const d of [m.outbound, m.inbound]) {
      const unknown = Object.keys(d.reasons).filter((r) => r.startsWith("refuse:") && r.endsWith("-unknown"));
      assert.ok(unknown.length > 0, JSON.stringify(d.reasons));
    }
  });
});
