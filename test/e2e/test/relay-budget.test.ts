// The relay under a flood from one account (issue 14): refusals are throttled per sender (no
// amplification), IQ requests left unanswered and stanzas waiting for a slow clearance answer are
// bounded per sender, and what they hold stays within the configured bytes — while legitimate users
// keep receiving and every link stays connected. Flooded from Prosody (peering pe: pa.test ↔
// eb.test on ejabberd) and from ejabberd (peering ep: ec.test ↔ sink.pz.test on Prosody). Each
// peering's remote side has a silent component (sink), which never answers an IQ.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer,
  connectClient,
  xml,
  type XmppServer,
  type TestClient,
  type Element,
} from "@cordon/harness";
import { createComponent, type CordonComponent } from "@cordon/component";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore, type ClearanceLookup, type UserClearanceSource } from "@cordon/store";
import { createRelay, defaultRules, MemoryAuditSink, type PeeringConfig, type Relay } from "@cordon/relay";
import {
  TLP,
  NS_STANZAS,
  loadTlpPolicies,
  relaySide,
  tlpClearance,
  tlpLabel,
  xmlValue as raw,
} from "../src/relay-fixture.js";

const SECRET = "budget-secret";
const BURST = 30;
const PER_SENDER_IQS = 100;
const PER_SENDER_PENDING = 50;

const label = (lacv: number) => tlpLabel(TLP, lacv);
const clearance = (lacvs: number[]) => tlpClearance(TLP, lacvs);
const byId = (name: string, id: string) => (el: Element) => el.name === name && el.attrs["id"] === id;
const errorOf = (el: Element) =>
  el
    .getChild("error")
    ?.children.find((c): c is Element => typeof c !== "string" && c.attrs.xmlns === NS_STANZAS)?.name;

/** The store, except that some users' clearance answers never come until `open(jid)` (a slow LDAP). */
class SlowFor implements UserClearanceSource {
  readonly #gates = new Map<string, { opened: Promise<void>; open: () => void }>();
  constructor(
    readonly inner: MemoryStore,
    slow: string[],
  ) {
    for (const jid of slow) {
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      this.#gates.set(jid, { opened, open });
    }
  }
  async getUserClearance(jid: string, policy?: string): Promise<ClearanceLookup> {
    await this.#gates.get(jid)?.opened;
    return this.inner.getUserClearance(jid, policy);
  }
  subscribe(listener: Parameters<UserClearanceSource["subscribe"]>[0]) {
    return this.inner.subscribe(listener);
  }
  open(jid?: string): void {
    for (const [j, g] of this.#gates) if (jid === undefined || j === jid) g.open();
  }
}

const RULES = {
  unlabelled: { message: "default", presence: "default", iq: "default" },
  defaultLabel: label(10),
  clearance: clearance([10, 11, 12]),
} as const;

function side(server: XmppServer, domains: string[]): PeeringConfig["local"] {
  return { ...relaySide(server, domains[0] ?? "", TLP, SECRET), domains };
}

/** A component that never answers IQs and records the messages it receives. */
function sink(server: XmppServer, domain: string): CordonComponent {
  return createComponent({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain,
    secret: SECRET,
    routeIqs: false,
  });
}

describe("relay memory budget under a flood from one account", () => {
  let pa: XmppServer, eb: XmppServer, ec: XmppServer;
  let relay: Relay;
  let sinkEb: CordonComponent, sinkPz: CordonComponent;
  const clients = new Map<string, TestClient>();
  const users = new SlowFor(new MemoryStore(), ["slowpoke@pa.test", "slowpoke@ec.test"]);
  const sinkReceived: Element[] = [];
  const sinkWaiters: (() => void)[] = [];
  /** Resolves once a sink received the message `id`. */
  const sinkGot = async (id: string) => {
    while (!sinkReceived.some(byId("message", id))) await new Promise<void>((r) => sinkWaiters.push(r));
  };

  before(async () => {
    const accounts = ["alice", "mallory", "trudy", "slowpoke"].map((u) => ({ username: u, password: "pw" }));
    [pa, eb, ec] = await Promise.all([
      startServer("prosody", {
        domain: "pa.test",
        components: ["eb.test", "sink.eb.test", "ec.test", "sink.pz.test"].map((domain) => ({
          domain,
          secret: SECRET,
        })),
        users: accounts,
      }),
      startServer("ejabberd", {
        domain: "eb.test",
        components: ["pa.test", "sink.eb.test"].map((domain) => ({ domain, secret: SECRET })),
        users: [{ username: "bob", password: "pw" }],
      }),
      startServer("ejabberd", {
        domain: "ec.test",
        components: [{ domain: "sink.pz.test", secret: SECRET }],
        users: accounts,
      }),
    ]);
    const registry = new PolicyRegistry();
    loadTlpPolicies(registry);
    for (const u of ["alice", "trudy", "slowpoke"])
      for (const d of ["pa.test", "ec.test"])
        await users.inner.setUserClearance(`${u}@${d}`, raw(clearance([10, 11, 12, 13])));
    const pe: PeeringConfig = {
      name: "pe",
      local: side(pa, ["pa.test"]),
      remote: side(eb, ["eb.test", "sink.eb.test"]),
      outbound: defaultRules({ ...RULES, iq: { namespaces: "any" } }),
      inbound: defaultRules({ ...RULES }),
    };
    const ep: PeeringConfig = {
      name: "ep",
      local: side(ec, ["ec.test"]),
      remote: side(pa, ["sink.pz.test"]),
      outbound: defaultRules({ ...RULES, iq: { namespaces: "any" } }),
      inbound: defaultRules({ ...RULES }),
    };
    relay = createRelay({
      peerings: [pe, ep],
      registry,
      store: users.inner,
      users,
      audit: new MemoryAuditSink(),
      reconnect: { initialMs: 100, maxMs: 1000 },
      limits: {
        throttle: { burst: BURST, perMinute: 0 },
        iq: { perSender: PER_SENDER_IQS, maxBytes: 4 * 1024 * 1024 },
        pending: { perSender: PER_SENDER_PENDING, perSenderBytes: 2 * 1024 * 1024 },
      },
    });
    sinkEb = sink(eb, "sink.eb.test");
    sinkPz = sink(pa, "sink.pz.test");
    for (const s of [sinkEb, sinkPz])
      s.onMessage((m) => {
        sinkReceived.push(m);
        for (const wake of sinkWaiters.splice(0)) wake();
      });
    await Promise.all([relay.start(), sinkEb.start(), sinkPz.start()]);
    for (const [server, names] of [
      [pa, ["alice", "mallory", "trudy", "slowpoke"]],
      [ec, ["alice", "mallory", "trudy", "slowpoke"]],
      [eb, ["bob"]],
    ] as const)
      for (const n of names) clients.set(`${n}@${server.domain}`, await connectClient(server, n, "pw"));
  });

  after(async () => {
    users.open();
    await Promise.allSettled([...clients.values()].map((c) => c.stop()));
    await relay?.stop();
    await Promise.allSettled([sinkEb, sinkPz].map((s) => s?.stop()));
    await Promise.allSettled([pa, eb, ec].map((s) => s?.stop()));
  });

  const client = (jid: string) => clients.get(jid) as TestClient;
  const peeringOf = (s: { kind: string }) => (s.kind === "prosody" ? "pe" : "ep");
  const scenarios = [
    { kind: "prosody", domain: "pa.test", target: "bob@eb.test", sink: "sink.eb.test" },
    { kind: "ejabberd", domain: "ec.test", target: "sink.pz.test", sink: "sink.pz.test" },
  ] as const;

  /**
   * A marker written on the very link the flooder's errors go out on (the relay's component for
   * the target's domain on the flooder's server): its outgoing queue is in order, so the marker
   * reaches the flooder after every error sent before it. (Not relayed: an account without
   * clearance may not receive anything across.)
   */
  async function marker(s: (typeof scenarios)[number], to: string, id: string): Promise<void> {
    const domain = s.kind === "prosody" ? "eb.test" : "sink.pz.test";
    const link = relay.links.find((l) => l.domain === domain);
    assert.ok(link);
    const from = s.kind === "prosody" ? "bob@eb.test/marker" : "sink.pz.test";
    await link.send(xml("message", { type: "chat", to, id, from }, xml("body", {}, "marker")));
  }

  /** A legitimate user's message crosses while the flood goes on. */
  async function legitimateDelivery(s: (typeof scenarios)[number], id: string): Promise<void> {
    await client(`alice@${s.domain}`).send(
      xml("message", { type: "chat", to: s.target, id }, xml("body", {}, "hello")),
    );
    if (s.kind === "prosody") await client("bob@eb.test").waitFor(byId("message", id), 15_000);
    else await sinkGot(id);
  }

  const linksUp = () => {
    for (const l of relay.links) assert.equal(l.status, "online", `${l.domain} stays online`);
  };

  const bufferOf = (name: string) => {
    const use = relay.memory().find((b) => b.buffer === name);
    assert.ok(use, name);
    return use;
  };

  for (const s of scenarios) {
    test(`[${s.kind}] refusals are throttled: an account with no clearance flooding refused messages gets at most ${BURST} errors and one resource-constraint`, async () => {
      const mallory = client(`mallory@${s.domain}`);
      const N = 200;
      for (let i = 0; i < N; i++)
        void mallory.send(
          xml("message", { type: "chat", to: s.target, id: `m${i}` }, xml("body", {}, "x".repeat(1000))),
        );
      await mallory.send(xml("message", { type: "chat", to: s.target, id: "m-last" }, xml("body", {}, "x")));
      await legitimateDelivery(s, `legit-throttle-${s.kind}`);
      // Every flood stanza has reached the relay and been refused — by its clearance, or at once
      // when more of them waited for their decision than one sender may have (polled: no timing
      // is asserted).
      const refusedSoFar = () => {
        const reasons = relay.metrics()[peeringOf(s)]?.outbound.reasons ?? {};
        return (reasons["refuse:sender-clearance"] ?? 0) + (reasons["refuse:pending-limit"] ?? 0);
      };
      while (refusedSoFar() < N + 1) await new Promise((r) => setTimeout(r, 20));
      await relay.idle();
      await marker(s, mallory.jid, `marker-${s.kind}`);
      await mallory.waitFor(byId("message", `marker-${s.kind}`), 15_000);
      const errors = mallory.received.filter((el) => el.name === "message" && el.attrs["type"] === "error");
      const conditions = errors.map(errorOf);
      // The burst is answered as usual (forbidden, or resource-constraint for what waited beyond
      // the sender's pending limit), then one resource-constraint, then nothing.
      assert.equal(errors.length, BURST + 1, `${errors.length} errors for ${N + 1} refusals`);
      assert.ok(
        conditions.every((c) => c === "forbidden" || c === "resource-constraint"),
        conditions.join(),
      );
      assert.equal(conditions.at(-1), "resource-constraint");
      for (const e of errors) assert.equal(e.getChild("body"), undefined, "no content echoed");
      linksUp();
      assert.ok(bufferOf("throttle").bytes <= bufferOf("throttle").maxBytes);
    });

    test(`[${s.kind}] IQ requests one account leaves unanswered are bounded per sender and in bytes`, async () => {
      const trudy = client(`trudy@${s.domain}`);
      const bigId = (i: number) => `q${i}-${"i".repeat(500)}`;
      const reasons = () => relay.metrics()[peeringOf(s)]?.outbound.reasons ?? {};
      const decided = () => Object.values(reasons()).reduce((n, v) => n + v, 0);
      const limited = () => reasons()["refuse:iq-pending-limit"] ?? 0;
      const limitedBefore = limited();
      const trackedBefore = bufferOf("iq-tracking").entries;
      // In batches smaller than the pending limit, each decided before the next is sent.
      const BATCH = 40;
      const SENT = 5 * BATCH;
      for (let sent = 0; sent < SENT; sent += BATCH) {
        const before = decided();
        for (let i = sent; i < sent + BATCH; i++)
          void trudy.send(
            xml("iq", { type: "get", to: s.sink, id: bigId(i) }, xml("ping", { xmlns: "urn:xmpp:ping" })),
          );
        while (decided() < before + BATCH) await new Promise((r) => setTimeout(r, 20));
      }
      // Past the per-sender limit, requests were refused at once (resource-constraint, wait).
      assert.equal(limited() - limitedBefore, SENT - PER_SENDER_IQS, JSON.stringify(reasons()));
      const refused = trudy.received.filter((el) => el.name === "iq" && el.attrs["type"] === "error");
      assert.ok(refused.length > 0);
      for (const r of refused) assert.equal(errorOf(r), "resource-constraint");
      const iq = bufferOf("iq-tracking");
      assert.ok(iq.entries - trackedBefore <= PER_SENDER_IQS, `${iq.entries - trackedBefore} more waiting`);
      assert.ok(iq.bytes <= iq.maxBytes, `${iq.bytes} bytes within ${iq.maxBytes}`);
      await legitimateDelivery(s, `legit-iq-${s.kind}`);
      linksUp();
    });

    test(`[${s.kind}] stanzas waiting for a slow clearance answer are bounded per sender; others keep going`, async () => {
      const slowpoke = client(`slowpoke@${s.domain}`);
      const N = PER_SENDER_PENDING + 20;
      for (let i = 0; i < N; i++)
        void slowpoke.send(
          xml("message", { type: "chat", to: s.target, id: `s${i}` }, xml("body", {}, "y".repeat(10_000))),
        );
      // While its clearance answer hangs, the sender's stanzas past the limit are refused at once.
      const refused = await slowpoke.waitFor(byId("message", `s${PER_SENDER_PENDING}`), 15_000);
      assert.equal(errorOf(refused), "resource-constraint");
      assert.equal(refused.getChild("body"), undefined);
      const pending = bufferOf("pending");
      assert.ok(pending.entries <= 2 * PER_SENDER_PENDING, `${pending.entries} pending`);
      assert.ok(pending.bytes <= pending.maxBytes);
      // The relay keeps each link's arrival order: what came after the slow stanzas is delivered
      // once their answer comes (the flood's own stanzas beyond the limit were not kept).
      users.open(`slowpoke@${s.domain}`);
      await legitimateDelivery(s, `legit-pending-${s.kind}`);
      await relay.idle();
      assert.equal(bufferOf("pending").entries, 0);
      linksUp();
    });
  }
});
