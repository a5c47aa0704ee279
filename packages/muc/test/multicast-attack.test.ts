// Adversarial review of the XEP-0033 fan-out (issue 19 goal 2). Defect found: the MUC handed the
// labelled payload and every recipient's JID to `multicast.service` without ever checking that
// this name is an XEP-0033 service (XEP-0033 §2). Where it is none (Prosody 0.12; a typo;
// mod_multicast not loaded) the server routes the stanza on — with s2s, to whatever the name
// resolves to. Now nothing goes to the service until its disco#info answered with the feature.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, type Element } from "@cordon/component";
import {
  BREAKER,
  Multicast,
  NS_ADDRESS,
  onMulticastError,
  type CopyGroup,
} from "../src/service/multicast.js";
import { discoverMulticast } from "../src/service/multicast-discovery.js";
import type { MucContext } from "../src/service/context.js";
import type { Occupant } from "../src/room/occupant.js";
import type { Room } from "../src/room/room.js";

const SERVICE = "multicast.example.test";
const settings = { service: SERVICE, chunk: 20, timeoutMs: 5000, maxBytes: 1 << 20 };
const START = '<message from="r@rooms.example.test/nick" type="groupchat" id="m1"';
const PAYLOAD = '"><body>secret</body></message>';
const occupant = (name: string): Occupant => ({ jid: `${name}@example.test/r` }) as unknown as Occupant;
const room = { jid: "r@rooms.example.test", destroyed: false, byJid: new Map() } as unknown as Room;
const group = (n: number): CopyGroup => ({
  payload: PAYLOAD,
  recipients: Array.from({ length: n }, (_, i) => occupant(`u${i}`)),
  check: () => true,
});

test("attack: a service never discovered gets nothing — no payload, no recipient JIDs (per copy)", () => {
  const m = new Multicast(settings, () => true);
  const out = m.fanout(room, START, "k", [group(5)], 0);
  assert.equal(out.multicast, 0);
  assert.equal(out.stanzas.length, 5);
  assert.ok(
    out.stanzas.every((s) => !s.includes(SERVICE) && !s.includes(NS_ADDRESS)),
    "no stanza addressed to the undiscovered service",
  );
  assert.equal(m.book.entries, 0);
});

/** A component whose request() answers with `answer` (or rejects when it is an Error). */
function ctxAnswering(answer: Element | Error, multicast = new Multicast(settings, () => true)) {
  const asked: Element[] = [];
  const warnings: string[] = [];
  const ctx = {
    multicast,
    settings: { domain: "rooms.example.test" },
    component: {
      request: (iq: Element) => {
        asked.push(iq);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    },
    logger: { info: () => undefined, warn: (_o: unknown, msg: string) => void warnings.push(msg) },
  } as unknown as Pick<MucContext, "multicast" | "component" | "settings" | "logger">;
  return { ctx, asked, warnings, multicast };
}

const info = (from: string, features: string[], type = "result") =>
  parseElement(
    `<iq type="${type}" from="${from}" to="rooms.example.test" id="x"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="service" type="multicast"/>${features.map((f) => `<feature var="${f}"/>`).join("")}</query></iq>`,
  );

test("discovery: only a disco#info result from the service with the address feature enables it", async () => {
  const yes = ctxAnswering(info(SERVICE, [NS_ADDRESS]));
  assert.equal(await discoverMulticast(yes.ctx), true);
  assert.equal(yes.asked[0]?.attrs.to, SERVICE);
  assert.equal(yes.multicast.verified, true);
  assert.equal(yes.multicast.fanout(room, START, "k", [group(5)], 0).multicast, 1);

  for (const answer of [
    new Error("timeout"), // no answer (no such host, s2s off): error or timeout
    info(SERVICE, ["http://jabber.org/protocol/disco#info"]), // some entity, not a multicast service
    info("evil.example", [NS_ADDRESS]), // not from the service
    info(SERVICE, [NS_ADDRESS], "error"),
  ]) {
    const no = ctxAnswering(answer);
    assert.equal(await discoverMulticast(no.ctx), false);
    assert.equal(no.multicast.verified, false);
    assert.equal(no.warnings.length, 1);
    assert.equal(no.multicast.fanout(room, START, "k", [group(5)], 0).multicast, 0);
  }
});

test("held: only the service's own bare domain counts as the service (errors from users, the room, a resource: not ours)", () => {
  const m = new Multicast(settings, () => true, { verified: true });
  assert.equal(m.isService(SERVICE), true);
  assert.equal(m.isService("MULTICAST.example.test"), true);
  for (const from of [
    "alice@example.test/r", // an occupant (the server stamps its own JID on what it sends)
    `alice@${SERVICE}`,
    `${SERVICE}/res`,
    "r@rooms.example.test/nick",
    "example.test",
    "evil.example",
    undefined,
  ])
    assert.equal(m.isService(from), false, String(from));
});

test("held: an error releases one kept chunk once; a second (replayed) error for it delivers nothing", () => {
  const m = new Multicast(settings, () => true, { verified: true });
  const r = { ...room, byJid: new Map<string, Occupant>() } as unknown as Room;
  const g = group(3);
  for (const o of g.recipients) (r.byJid as Map<string, Occupant>).set(o.jid, o);
  const out = m.fanout(r, START, "r@rooms.example.test\nm1", [g], 0);
  assert.equal(out.multicast, 1);
  const error = parseElement(
    `<message from="${SERVICE}" to="r@rooms.example.test/nick" id="m1" type="error"><error type="cancel"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
  );
  const rooms = new Map([["r@rooms.example.test", r]]);
  assert.equal(m.onError(rooms, error, 1).copies.length, 3);
  const again = m.onError(rooms, error, 2);
  assert.equal(again.matched, false);
  assert.equal(again.copies.length, 0, "no duplicate copies");
});

test("attack: once the breaker opens the service is not trusted again until it answers disco#info again", async () => {
  // Discovered at start, then gone (mod_multicast removed by a config reload): the server answers
  // errors, or routes the stanza on. After the breaker's cooldown the old code multicast again
  // blindly; now it is per copy until a fresh disco#info finds the service.
  const m = new Multicast(settings, () => true, { verified: true });
  const { ctx } = ctxAnswering(new Error("gone"), m);
  const full = {
    ...ctx,
    rooms: new Map<string, Room>(),
    send: async () => undefined,
    now: () => 1000,
    logger: { ...ctx.logger, debug: () => undefined },
  } as unknown as Parameters<typeof onMulticastError>[0];
  const error = parseElement(
    `<message from="${SERVICE}" to="r@rooms.example.test/nick" id="m1" type="error"><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
  );
  for (let i = 0; i < BREAKER.errors; i++) await onMulticastError(full, error);
  assert.equal(m.verified, false, "no longer trusted");
  // Long after the cooldown, still per copy: nothing goes to the service.
  const later = m.fanout(room, START, "k", [group(5)], 1000 + BREAKER.cooldownMs + 1);
  assert.equal(later.multicast, 0);
  assert.ok(later.stanzas.every((s) => !s.includes(SERVICE)));
});
