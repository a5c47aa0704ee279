// The synchronous path of the clearance checks (clearance-check.ts, clearance-lookups.ts; issue 19
// goal 4) against what it replaced: the former checks, kept here as they were (one `await` per
// lookup, in decide.ts and recipient.ts), over random stores, routes, labels and direction rules,
// with the reader's cache cold, warm, and disabled. And the invalidation: a clearance changed or
// revoked in the store, or the store going down, is seen by the next decision as before.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bareJid, parseJid } from "@cordon/component";
import type { Clearance, Label } from "@cordon/policy";
import { ClearanceReader, type ClearanceState } from "@cordon/rules";
import { MemoryStore, type ClearanceLookup, type StoreEvent, type StoreListener } from "@cordon/store";
import { ClearanceSource, type RelayClearanceStore } from "../src/clearances.js";
import { clearanceRefusal, type ClearanceRefusal } from "../src/clearance-check.js";
import { decide, DirectionContext, type Decision } from "../src/decide.js";
import { directionsOf, routeOf, type Direction, type Route } from "../src/direction.js";
import { IqTracker } from "../src/iq-control.js";
import { LabelEngine } from "../src/label-check.js";
import type { DirectionRules } from "../src/peering.js";
import { clearance, el, label, peering, registry, securityLabel, TLP, TLPX } from "./fixtures.js";

const engine = new LabelEngine(registry());

// ---- The former checks, as they were (decide.ts and recipient.ts before the synchronous path) ----

async function formerRefusal(
  label: Label,
  route: Route,
  ctx: DirectionContext,
  clearances: ClearanceSource,
): Promise<ClearanceRefusal | undefined> {
  const d = ctx.direction;
  const rules = d.rules;
  const directionClearance =
    rules.clearance !== undefined
      ? clearances.configured(rules.clearance)
      : await clearances.peer(d.name === "outbound" ? route.toDomain : route.fromDomain, d.name);
  if (directionClearance.status !== "known")
    return { reason: "direction-clearance-unknown", detail: directionClearance.status };
  const byDirection = engine.refusal(label, directionClearance.clearance);
  if (byDirection) return { reason: "direction-clearance", detail: byDirection };
  const senderClearance = await formerSender(route, ctx, clearances, directionClearance);
  if (senderClearance.status === "none") return { reason: "sender-clearance", detail: "nil clearance" };
  if (senderClearance.status !== "known")
    return { reason: "sender-clearance-unknown", detail: senderClearance.status };
  const bySender = engine.refusal(label, senderClearance.clearance);
  if (bySender) return { reason: "sender-clearance", detail: bySender };
  const recipient = await formerRecipient(route, d, ctx.receiving.id, clearances, ctx.sending.id);
  if (recipient.status === "none") return { reason: "recipient-clearance", detail: "nil clearance" };
  if (recipient.status === "unknown") return { reason: "recipient-clearance-unknown", detail: "unknown" };
  for (const c of recipient.clearances) {
    const byRecipient = engine.refusal(label, c);
    if (byRecipient) return { reason: "recipient-clearance", detail: byRecipient };
  }
  return undefined;
}

async function formerSender(
  route: Route,
  ctx: DirectionContext,
  clearances: ClearanceSource,
  directionClearance: ClearanceState,
): Promise<ClearanceState> {
  const d = ctx.direction;
  if (d.name === "outbound") {
    const isUser = route.fromBare !== route.fromDomain && !d.from.mucDomains.includes(route.fromDomain);
    if (isUser) return clearances.user(route.fromBare, ctx.sending.id);
    return clearances.service(route.fromDomain);
  }
  if (d.from.senderClearance !== undefined) return clearances.configured(d.from.senderClearance);
  const service = await clearances.service(route.fromDomain);
  return service.status === "none" ? directionClearance : service;
}

type Recipient =
  { status: "known"; clearances: Clearance[] } | { status: "none" } | { status: "unknown"; reason: string };

async function formerRecipient(
  route: Route,
  direction: Direction,
  receivingPolicy: string,
  clearances: ClearanceSource,
  sendingPolicy: string,
): Promise<Recipient> {
  const to = parseJid(route.to);
  if (!to) return { status: "unknown", reason: "unparsable recipient" };
  const domain = to.domain;
  const bare = bareJid(to);
  const isRoom = to.local !== "" && direction.to.mucDomains.includes(domain);
  const fromState = (state: ClearanceState): Recipient =>
    state.status === "known"
      ? { status: "known", clearances: [state.clearance] }
      : state.status === "none"
        ? { status: "none" }
        : { status: "unknown", reason: state.reason };
  if (direction.name === "outbound") {
    if (!to.local || isRoom) return { status: "known", clearances: [] };
    const held: Clearance[] = [];
    for (const policy of [...new Set([receivingPolicy, sendingPolicy])]) {
      const user = await clearances.user(bare, policy);
      if (user.status === "unknown") return { status: "unknown", reason: user.reason };
      if (user.status === "known") held.push(user.clearance);
    }
    return { status: "known", clearances: held };
  }
  if (!to.local) return fromState(await clearances.service(domain));
  if (isRoom) {
    const record = await clearances.room(bare);
    if (record.status !== "known") return record;
    const service = await clearances.service(domain);
    if (service.status === "unknown") return service;
    const all = [...record.clearances, ...(service.status === "known" ? [service.clearance] : [])];
    if (all.length === 0)
      return { status: "unknown", reason: "the room has no clearance the relay can read" };
    return { status: "known", clearances: all };
  }
  return fromState(await clearances.user(bare, receivingPolicy));
}

// ---- Random worlds ----

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOCAL_USERS = ["alice@tlpx.test", "eve@tlpx.test", "nil@tlpx.test", "bad@tlpx.test"];
const REMOTE_USERS = ["bob@tlp.test", "rob@tlp.test", "nil@tlp.test", "bad@tlp.test"];
const CLEARANCES = [[10], [10, 11], [10, 11, 12], [10, 11, 12, 13]];
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A store filled at random; "bad" users hold a value that does not parse; `failing` users' lookups throw. */
async function world(r: () => number): Promise<RelayClearanceStore> {
  const store = new MemoryStore();
  const value = (policy: string) => ({
    encoding: "xml" as const,
    data: clearance(policy, pick(r, CLEARANCES)),
  });
  for (const u of [...LOCAL_USERS, ...REMOTE_USERS]) {
    if (u.startsWith("nil@") || r() < 0.15) continue;
    if (u.startsWith("bad@")) await store.setUserClearance(u, { encoding: "xml", data: "<clearance/>" });
    else {
      if (r() < 0.8) await store.setUserClearance(u, value(TLPX), TLPX);
      if (r() < 0.5) await store.setUserClearance(u, value(TLP), TLP);
    }
  }
  for (const d of ["tlpx.test", "tlp.test", "rooms.tlpx.test"])
    if (r() < 0.7) await store.setServiceClearance(d, value(d.endsWith("tlp.test") ? TLP : TLPX));
  for (const dir of ["inbound", "outbound"] as const)
    if (r() < 0.8) await store.setPeerClearance("tlp.test", dir, value(TLP));
  if (r() < 0.7)
    await store.putRoom({
      jid: "room@rooms.tlpx.test",
      config: {},
      clearance: value(TLPX),
      affiliations: {},
      persistent: true,
    });
  const failing = r() < 0.2 ? pick(r, [...LOCAL_USERS, ...REMOTE_USERS]) : "";
  return {
    getUserClearance: (j, p): Promise<ClearanceLookup> =>
      j === failing ? Promise.reject(new Error("down")) : store.getUserClearance(j, p),
    getServiceClearance: (d) => store.getServiceClearance(d),
    getPeerClearance: (d, dir) => store.getPeerClearance(d, dir),
    getRoom: (j) => store.getRoom(j),
    subscribe: (l) => store.subscribe(l),
  };
}

function scenario(r: () => number): {
  stanza: string;
  which: "outbound" | "inbound";
  rules: Partial<DirectionRules>;
} {
  const which = r() < 0.5 ? "outbound" : "inbound";
  const [senders, recipients] =
    which === "outbound"
      ? [
          [...LOCAL_USERS, "tlpx.test", "room@rooms.tlpx.test"],
          [...REMOTE_USERS, "tlp.test", "r@rooms.tlp.test"],
        ]
      : [
          [...REMOTE_USERS, "tlp.test"],
          [...LOCAL_USERS, "tlpx.test", "room@rooms.tlpx.test", "gone@rooms.tlpx.test"],
        ];
  const policy = which === "outbound" ? TLPX : TLP;
  const lacv = pick(r, [10, 11, 12, 13]);
  // AMBER may name a category ([TO:PARTNERS]); the others name none.
  const sl = securityLabel(label(policy, lacv, lacv === 12 && r() < 0.4 ? [0] : []));
  const stanza = `<message type='chat' from='${pick(r, senders)}/x' to='${pick(r, recipients)}' id='m1'><body>b</body>${sl}</message>`;
  // Without a configured clearance, the direction's is the store's peer clearance.
  const configured = clearance(which === "outbound" ? TLP : TLPX, pick(r, CLEARANCES));
  const rules = { clearance: r() < 0.6 ? undefined : configured } as Partial<DirectionRules>;
  return { stanza, which, rules };
}

function context(which: "outbound" | "inbound", rules: Partial<DirectionRules>): DirectionContext {
  const p = which === "outbound" ? peering(rules) : peering({}, rules);
  return new DirectionContext(directionsOf(p)[which], engine);
}

/** The route and label of a scenario; undefined when the label drawn is not valid in its policy. */
function routeAndLabel(stanza: string, ctx: DirectionContext): { route: Route; label: Label } | undefined {
  const s = el(stanza);
  const routed = routeOf(s, ctx.direction);
  assert.ok(routed.ok);
  const resolved = engine.labels.of(s, {
    accept: [ctx.sending.id, ctx.receiving.id],
    defaultLabel: undefined,
    maxDepth: 64,
  });
  if (!resolved.ok) return undefined;
  return { route: routed.route, label: resolved.label };
}

const source = (s: RelayClearanceStore, maxAgeMs?: number) =>
  new ClearanceSource(
    new ClearanceReader({
      registry: engine.registry,
      store: s,
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
    }),
    engine,
    s,
  );

describe("clearance checks: the synchronous path against the former awaits", () => {
  test("2,000 random worlds: the same verdict cold, warm (synchronous) and uncached", async (t) => {
    let sync = 0;
    let ran = 0;
    const reasons = new Map<string, number>();
    for (let seed = 1; seed <= 2000; seed++) {
      const r = random(seed);
      const store = await world(r);
      const { stanza, which, rules } = scenario(r);
      const ctx = context(which, rules);
      const read = routeAndLabel(stanza, ctx);
      if (!read) continue;
      ran++;
      const { route, label } = read;
      const expected = await formerRefusal(label, route, ctx, source(store));
      const reason = expected?.reason ?? "granted";
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      const cached = source(store);
      const cold = await clearanceRefusal(label, route, ctx, engine, cached);
      const warm = clearanceRefusal(label, route, ctx, engine, cached);
      if (!(warm instanceof Promise)) sync++;
      const uncached = clearanceRefusal(label, route, ctx, engine, source(store, 0));
      const why = `seed ${seed}: ${which} ${stanza}`;
      assert.deepEqual(cold, expected, why);
      assert.deepEqual(await warm, expected, why);
      assert.ok(uncached instanceof Promise || rules.clearance !== undefined, why);
      assert.deepEqual(await uncached, expected, why);
    }
    // Most worlds answer every lookup from the cache the second time (not rooms, not unknown answers).
    t.diagnostic(`${ran} ran, ${sync} synchronous; ${[...reasons].map(([k, n]) => `${k} ${n}`).join(", ")}`);
    assert.ok(ran > 1500 && sync > ran / 2, `${ran} ran, ${sync} synchronous`);
    // Every outcome of the checks occurs (the worlds are not all alike).
    assert.ok(reasons.size >= 6, [...reasons.keys()].join(", "));
  });
});

describe("clearance checks: invalidation as before", () => {
  const AMBER = securityLabel(label(TLP, 12));
  const chat = (to: string) =>
    `<message type='chat' from='bob@tlp.test/r' to='${to}' id='m2'><body>b</body>${AMBER}</message>`;

  async function setup(): Promise<{
    store: MemoryStore;
    clearances: ClearanceSource;
    run: (stanza: string) => Decision | Promise<Decision>;
    emit: (e: StoreEvent) => void;
  }> {
    const store = new MemoryStore();
    const listeners: StoreListener[] = [];
    await store.setUserClearance("alice@tlpx.test", { encoding: "xml", data: clearance(TLPX, [10, 11, 12]) });
    await store.setServiceClearance("tlp.test", { encoding: "xml", data: clearance(TLP, [10, 11, 12]) });
    const wrapped: RelayClearanceStore = {
      getUserClearance: (j, p) => store.getUserClearance(j, p),
      getServiceClearance: (d) => store.getServiceClearance(d),
      getPeerClearance: (d, dir) => store.getPeerClearance(d, dir),
      subscribe: (l) => {
        listeners.push(l);
        return store.subscribe(l);
      },
    };
    const clearances = source(wrapped);
    const ctx = new DirectionContext(directionsOf(peering())["inbound"], engine);
    const run = (stanza: string) => decide(el(stanza), ctx, { engine, clearances, iqs: new IqTracker() });
    return { store, clearances, run, emit: (e) => listeners.forEach((l) => l(e)) };
  }
  const outcome = (d: Decision) => (d.action === "pass" ? "pass" : `${d.action}:${d.audit.reason}`);

  test("cached answers decide without a promise; a lowered clearance is seen by the next decision", async () => {
    const { store, run } = await setup();
    assert.equal(outcome(await run(chat("alice@tlpx.test"))), "pass");
    const again = run(chat("alice@tlpx.test"));
    assert.ok(!(again instanceof Promise), "every answer cached: decided in the same turn");
    assert.equal(outcome(again), "pass");
    await store.setUserClearance("alice@tlpx.test", { encoding: "xml", data: clearance(TLPX, [10, 11]) });
    const lowered = run(chat("alice@tlpx.test"));
    assert.ok(lowered instanceof Promise, "the notification emptied the cache: looked up again");
    assert.equal(outcome(await lowered), "refuse:recipient-clearance");
  });

  test("a revoked clearance is the nil clearance at once; a service clearance removed falls back as before", async () => {
    const { store, run } = await setup();
    assert.equal(outcome(await run(chat("alice@tlpx.test"))), "pass");
    await store.deleteUserClearance("alice@tlpx.test");
    assert.equal(outcome(await run(chat("alice@tlpx.test"))), "refuse:recipient-clearance");
    await store.setUserClearance("alice@tlpx.test", { encoding: "xml", data: clearance(TLPX, [10, 11, 12]) });
    assert.equal(outcome(await run(chat("alice@tlpx.test"))), "pass");
    // The sender's domain loses its service clearance: the direction's is used (inbound, as before).
    await store.deleteServiceClearance("tlp.test");
    assert.equal(outcome(await run(chat("alice@tlpx.test"))), "pass");
  });

  test("the store going down drops every cached answer and keeps none while down", async () => {
    const { run, emit } = await setup();
    assert.equal(outcome(await run(chat("alice@tlpx.test"))), "pass");
    emit({ kind: "connection", state: "down" } as StoreEvent);
    const down = run(chat("alice@tlpx.test"));
    assert.ok(down instanceof Promise, "nothing cached while the store is down");
    await down;
    assert.ok(run(chat("alice@tlpx.test")) instanceof Promise, "still nothing cached");
    emit({ kind: "connection", state: "up" } as StoreEvent);
    await run(chat("alice@tlpx.test"));
    assert.ok(!(run(chat("alice@tlpx.test")) instanceof Promise), "cached again once up");
  });

  test("a clearance lowered while another lookup of the decision is awaited is read after it, as before", async () => {
    const store = new MemoryStore();
    await store.setUserClearance("alice@tlpx.test", { encoding: "xml", data: clearance(TLPX, [10, 11, 12]) });
    await store.setServiceClearance("tlp.test", { encoding: "xml", data: clearance(TLP, [10, 11, 12]) });
    let gate: (() => void) | undefined;
    const slow: RelayClearanceStore = {
      // The sender's service lookup waits until the test lets it go.
      getServiceClearance: async (d) => {
        if (gate === undefined) await new Promise<void>((go) => (gate = go));
        return store.getServiceClearance(d);
      },
      getUserClearance: (j, p) => store.getUserClearance(j, p),
      getPeerClearance: (d, dir) => store.getPeerClearance(d, dir),
      subscribe: (l) => store.subscribe(l),
    };
    const clearances = source(slow);
    // The recipient's answer is cached before the decision starts.
    assert.equal((await clearances.user("alice@tlpx.test", TLPX)).status, "known");
    const ctx = new DirectionContext(directionsOf(peering())["inbound"], engine);
    const pending = decide(el(chat("alice@tlpx.test")), ctx, { engine, clearances, iqs: new IqTracker() });
    assert.ok(pending instanceof Promise);
    while (gate === undefined) await new Promise((t) => setImmediate(t));
    await store.setUserClearance("alice@tlpx.test", { encoding: "xml", data: clearance(TLPX, [10]) });
    gate();
    assert.equal(outcome(await pending), "refuse:recipient-clearance");
  });
});

// Review (adv42, held): an exception in the synchronous path leaves decide() as a throw, which the
// relay's safeDecide (`return await decide(...)` inside its try) turns into an internal-error
// refusal; in the awaited path, as a rejection. Never a pass, never an unhandled rejection.
describe("clearance checks: a lookup that throws fails closed on either path", () => {
  const AMBER = securityLabel(label(TLP, 12));
  const stanza = `<message type='chat' from='bob@tlp.test/r' to='alice@tlpx.test' id='m3'><body>b</body>${AMBER}</message>`;
  async function safe(run: () => Decision | Promise<Decision>): Promise<string> {
    try {
      const d = await run();
      return d.action === "pass" ? "pass" : `${d.action}:${d.audit.reason}`;
    } catch {
      return "internal-error";
    }
  }
  for (const path of ["cached", "awaited"] as const) {
    test(`the ${path} lookup throws`, async () => {
      const store = new MemoryStore();
      await store.setUserClearance("alice@tlpx.test", {
        encoding: "xml",
        data: clearance(TLPX, [10, 11, 12]),
      });
      const clearances = source(store);
      // Every answer cached: the sender's domain (none: the direction's) and the recipient.
      assert.equal((await clearances.service("tlp.test")).status, "none");
      assert.equal((await clearances.user("alice@tlpx.test", TLPX)).status, "known");
      if (path === "cached")
        clearances.cachedUser = () => {
          throw new Error("boom");
        };
      else {
        clearances.cachedUser = () => undefined;
        clearances.user = () => Promise.reject(new Error("boom"));
      }
      const ctx = new DirectionContext(directionsOf(peering())["inbound"], engine);
      const run = () => decide(el(stanza), ctx, { engine, clearances, iqs: new IqTracker() });
      if (path === "cached") assert.throws(run, /boom/);
      assert.equal(await safe(run), "internal-error");
    });
  }
});
