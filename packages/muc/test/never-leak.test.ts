// Never-leak property of the labelled MUC (XEP-0258 §"Use in Group Chat" https://xmpp.org/extensions/xep-0258.html#muc:
// "The server MUST only deliver messages to participants for which they are cleared to receive";
// §"Room History": replay only what the joiner is cleared for; §"Private Messages": same rule).
// The real handlers (groupchat fan-out, private messages, history replay) run with the real policy
// engine over the demo policy, without XMPP; random clearances, labels, room settings and traffic.
// Every stanza they emit is checked against an oracle written here from the demo policy's rules
// (deploy/quickstart/demo-policy.xml), not with the engine under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { xml, parseElement, type Element } from "@cordon/component";
import {
  buildSecurityLabelXml,
  labelMarking,
  makeClearance,
  makeLabel,
  PolicyError,
  securityLabelForms,
  type Clearance,
  type Label,
  type Policy,
} from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant, Role } from "../src/room/occupant.js";
import type { ClearanceState } from "@cordon/rules";
import type { HistoryRequest } from "../src/room/history.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onPrivateMessage } from "../src/service/private-message.js";
import { historyStanzas } from "../src/service/history-replay.js";
import { readServiceBound } from "../src/security/service-clearance.js";
import { queryArchive } from "../src/service/archive.js";
import { deliverableLabel } from "../src/service/delivery.js";
import { NS_SEC_LABEL } from "../src/namespaces.js";
import { capturingContext, loadDemoPolicy } from "./muc-test-context.js";
import { onRoomPresence } from "../src/service/presence.js";
import { raceContext, raw, roomWith, seat } from "./race-context.js";
import { settle } from "./slow-directory.js";

// ── The oracle: the demo policy's rules, written out ──────────────────────────────────────────
const CLASSES = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"] as const;
const CATEGORIES = ["ALPHA", "BRAVO", "GBR", "USA", "FRA"] as const;
/** Compartments: every one on the label must be held. */
const RESTRICTIVE: ReadonlySet<string> = new Set(["ALPHA", "BRAVO"]);
/** Releasability (one permissive tag): at least one of the label's countries must be held. */
const PERMISSIVE: ReadonlySet<string> = new Set(["GBR", "USA", "FRA"]);
/** excludedClass: a compartment is not valid on an UNCLASSIFIED label. */
const EXCLUDED_CLASS: Readonly<Record<string, string>> = { ALPHA: "UNCLASSIFIED", BRAVO: "UNCLASSIFIED" };

interface SimpleLabel {
  cls: string;
  cats: string[];
}
interface SimpleClearance {
  classes: string[];
  cats: string[];
}
type SimpleState = { kind: "known"; clearance: SimpleClearance } | { kind: "none" } | { kind: "unknown" };

function oracleValid(label: SimpleLabel): boolean {
  return label.cats.every((c) => EXCLUDED_CLASS[c] !== label.cls);
}

/** Classification membership, every restrictive category held, the permissive group hit. */
function oracleGrants(clearance: SimpleClearance | undefined, label: SimpleLabel): boolean {
  if (!clearance) return false;
  if (!clearance.classes.includes(label.cls)) return false;
  for (const c of label.cats) if (RESTRICTIVE.has(c) && !clearance.cats.includes(c)) return false;
  const permissive = label.cats.filter((c) => PERMISSIVE.has(c));
  if (permissive.length > 0 && !permissive.some((c) => clearance.cats.includes(c))) return false;
  return true;
}

const knownClearance = (s: SimpleState): SimpleClearance | undefined =>
  s.kind === "known" ? s.clearance : undefined;
const sameSimpleLabel = (a: SimpleLabel, b: SimpleLabel) =>
  a.cls === b.cls && [...a.cats].sort().join() === [...b.cats].sort().join();
const show = (l: SimpleLabel | undefined) =>
  l ? `${l.cls}${l.cats.length ? ` ${[...l.cats].sort().join("/")}` : ""}` : "none";

// ── Arbitraries ────────────────────────────────────────────────────────────────────────────────
const labelArb: fc.Arbitrary<SimpleLabel> = fc.record({
  cls: fc.constantFrom(...CLASSES),
  cats: fc.subarray([...CATEGORIES]),
});
const clearanceArb: fc.Arbitrary<SimpleClearance> = fc.record({
  classes: fc.subarray([...CLASSES]),
  cats: fc.subarray([...CATEGORIES]),
});
const stateArb: fc.Arbitrary<SimpleState> = fc.oneof(
  { weight: 8, arbitrary: clearanceArb.map((clearance): SimpleState => ({ kind: "known", clearance })) },
  { weight: 1, arbitrary: fc.constant<SimpleState>({ kind: "none" }) },
  { weight: 1, arbitrary: fc.constant<SimpleState>({ kind: "unknown" }) },
);
const occupantArb = fc.record({
  state: stateArb,
  aware: fc.boolean(),
  role: fc.constantFrom<Role>("moderator", "participant", "participant", "visitor"),
});
const requestArb: fc.Arbitrary<HistoryRequest> = fc.record(
  { maxStanzas: fc.nat({ max: 12 }), maxChars: fc.nat({ max: 20_000 }), seconds: fc.nat({ max: 40 }) },
  { requiredKeys: [] },
);
const actionArb = fc.oneof(
  fc.record({
    kind: fc.constant("groupchat" as const),
    sender: fc.nat(),
    label: fc.option(labelArb, { nil: undefined, freq: 5 }),
  }),
  fc.record({
    kind: fc.constant("pm" as const),
    sender: fc.nat(),
    recipient: fc.nat(),
    label: fc.option(labelArb, { nil: undefined, freq: 5 }),
  }),
);
const scenarioArb = fc.record({
  occupants: fc.array(occupantArb, { minLength: 1, maxLength: 8 }),
  roomClearance: fc.option(clearanceArb, { nil: undefined, freq: 8 }),
  roomDefault: fc.option(labelArb, { nil: undefined }),
  serviceClearance: fc.option(clearanceArb, { nil: undefined }),
  serviceDefault: fc.option(labelArb, { nil: undefined }),
  // The operator changes the service clearance after the traffic, before the joiners (adversarial
  // review, issue 15): history and the archive hand out only what the bound grants now.
  laterServiceClearance: fc.option(clearanceArb, { nil: undefined, freq: 3 }),
  historyLength: fc.integer({ min: 0, max: 12 }),
  flotAlways: fc.boolean(),
  actions: fc.array(actionArb, { maxLength: 16 }),
  joiners: fc.array(fc.record({ state: stateArb, aware: fc.boolean(), request: requestArb }), {
    maxLength: 3,
  }),
});

// ── The real objects ───────────────────────────────────────────────────────────────────────────
const { registry, policy } = loadDemoPolicy();

function realLabel(p: Policy, l: SimpleLabel): Label {
  const cls = p.classifications.find((c) => c.name === l.cls);
  assert.ok(cls, l.cls);
  return makeLabel(
    p,
    cls,
    l.cats.map((n) => {
      const cat = p.categories.find((c) => c.name === n);
      assert.ok(cat, n);
      return cat;
    }),
  );
}

function realClearance(p: Policy, c: SimpleClearance): Clearance {
  return makeClearance(
    p,
    c.classes.map((n) => p.classifications.find((x) => x.name === n)!),
    c.cats.map((n) => p.categories.find((x) => x.name === n)!),
  );
}

function realState(s: SimpleState): ClearanceState {
  if (s.kind === "known")
    return {
      status: "known",
      clearance: realClearance(policy, s.clearance),
      fingerprint: JSON.stringify(s.clearance),
    };
  if (s.kind === "none") return { status: "none" };
  return { status: "unknown", reason: "directory down (test)" };
}

function occupant(roomJid: string, i: number, state: SimpleState, aware: boolean, role: Role): Occupant {
  return {
    nick: `n${i}`,
    jid: `u${i}@example.test/r`,
    bare: `u${i}@example.test`,
    role,
    affiliation: role === "moderator" ? "admin" : "none",
    occupantId: `oid-${i}`,
    clearance: realState(state),
    labelAware: aware,
    presenceXml: "",
    joinedAt: 0,
  };
}

/** The label a delivered stanza carries, read back by the policy library's XEP-0258 decoder. */
function carriedLabel(stanza: Element): SimpleLabel | undefined {
  const el = stanza.getChild("securitylabel", NS_SEC_LABEL);
  if (!el) return undefined;
  const decoded = securityLabelForms(el.toString(), registry);
  const form = decoded.kind === "forms" ? decoded.forms[0] : undefined;
  if (!form || form instanceof PolicyError || form.policy.id !== policy.id) return undefined;
  return { cls: form.classification.name, cats: form.categories.map((c) => c.name) };
}

/**
 * Whether a copy shows `expected` the way its recipient can see it: a label-aware client gets the
 * <securitylabel/> (read back by the XEP-0258 decoder); a label-unaware one gets the label's
 * marking as the body's first line (FLOT) and no <securitylabel/>.
 */
function showsLabel(stanza: Element, expected: SimpleLabel, aware: boolean): boolean {
  if (aware) {
    const carried = carriedLabel(stanza);
    return carried !== undefined && sameSimpleLabel(carried, expected);
  }
  const firstLine = (stanza.getChildText("body") ?? "").split("\n")[0];
  return (
    stanza.getChild("securitylabel", NS_SEC_LABEL) === undefined &&
    firstLine === labelMarking(realLabel(policy, expected))
  );
}

const marker = (i: number) => `[msg ${i}]`;
const markerOf = (body: string): number | undefined => {
  const m = /\[msg (\d+)\]/.exec(body);
  return m ? Number(m[1]) : undefined;
};

test("deliverableLabel grants exactly what the oracle grants (random labels x random clearances)", () => {
  fc.assert(
    fc.property(labelArb, stateArb, (label, state) => {
      const o = occupant("r@rooms.example.test", 0, state, true, "participant");
      const ctx = capturingContext(registry, policy, {
        defaultRoomLabel: realLabel(policy, { cls: "UNCLASSIFIED", cats: [] }),
      });
      const got = deliverableLabel(ctx, o, realLabel(policy, label));
      const expected = oracleGrants(knownClearance(state), label);
      assert.equal(got !== undefined, expected, `label ${show(label)} / clearance ${JSON.stringify(state)}`);
      if (got)
        assert.ok(
          sameSimpleLabel({ cls: got.classification.name, cats: got.categories.map((c) => c.name) }, label),
        );
    }),
    { numRuns: 2000 },
  );
});

test("no occupant ever receives, live, in a private message, in history replay or from the archive, a label its clearance does not grant", async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, async (sc) => {
      const roomJid = "ops@rooms.example.test";
      const ctx = capturingContext(registry, policy, {
        domain: "rooms.example.test",
        defaultRoomLabel: realLabel(policy, { cls: "UNCLASSIFIED", cats: [] }),
        serviceClearance: sc.serviceClearance ? realClearance(policy, sc.serviceClearance) : undefined,
        defaultMessageLabel: sc.serviceDefault ? realLabel(policy, sc.serviceDefault) : undefined,
      });
      const room = new Room(
        roomJid,
        {
          ...DEFAULT_ROOM_CONFIG,
          historyLength: sc.historyLength,
          flotAlways: sc.flotAlways,
          allowPm: "anyone",
        },
        {
          label: realLabel(policy, { cls: "UNCLASSIFIED", cats: [] }),
          clearance: sc.roomClearance ? realClearance(policy, sc.roomClearance) : undefined,
          defaultLabel: sc.roomDefault ? realLabel(policy, sc.roomDefault) : undefined,
          raw: {},
        },
      );
      const people = sc.occupants.map((o, i) => occupant(roomJid, i, o.state, o.aware, o.role));
      for (const p of people) room.add(p);
      const stateOf = new Map(people.map((p, i) => [p.jid, sc.occupants[i]!.state]));

      // The oracle's view of each accepted message: its effective label and whether it went to history.
      const accepted = new Map<number, { label: SimpleLabel; kind: "groupchat" | "pm" }>();
      for (const [i, action] of sc.actions.entries()) {
        const sender = people[action.sender % people.length]!;
        const senderState = stateOf.get(sender.jid)!;
        const explicit = action.label;
        const effective = explicit ?? sc.roomDefault ?? sc.serviceDefault;
        const fits = (c: SimpleClearance | undefined, l: SimpleLabel) => oracleGrants(c, l);
        const gateOk =
          effective !== undefined &&
          // The default label is checked as an explicit one is (was: skipped, and the MUC applied a
          // room default its policy excludes live, then refused it in history replay).
          oracleValid(effective) &&
          fits(knownClearance(senderState), effective) &&
          fits(sc.roomClearance, effective) &&
          (sc.serviceClearance === undefined || fits(sc.serviceClearance, effective));
        const before = ctx.sent.length;
        const children = [
          xml("body", {}, `${marker(i)} text`),
          ...(explicit ? [parseElement(buildSecurityLabelXml(realLabel(policy, explicit)))] : []),
        ];
        let recipient: Occupant | undefined;
        if (action.kind === "groupchat") {
          await onGroupchat(
            ctx,
            room,
            sender,
            xml("message", { from: sender.jid, to: roomJid, type: "groupchat", id: `m${i}` }, ...children),
          );
        } else {
          recipient = people[action.recipient % people.length]!;
          await onPrivateMessage(
            ctx,
            room,
            sender,
            xml(
              "message",
              { from: sender.jid, to: `${roomJid}/${recipient.nick}`, type: "chat", id: `m${i}` },
              ...children,
            ),
            recipient.nick,
          );
        }
        const out = ctx.sent.slice(before).map(parseElement);
        const context = `action ${i} ${action.kind} label ${show(explicit)} effective ${show(effective)} sender ${JSON.stringify(senderState)}`;
        // Never leak: whoever got a copy is cleared for the message's effective label, and the copy
        // carries that label (not a lower one).
        for (const s of out) {
          const to = s.attrs.to ?? "";
          const state = stateOf.get(to);
          assert.ok(state, `${context}: sent to a non-occupant ${to}`);
          assert.ok(effective !== undefined && gateOk, `${context}: a refused message reached ${to}`);
          assert.ok(
            oracleGrants(knownClearance(state), effective),
            `${context}: ${to} with ${JSON.stringify(state)} received ${show(effective)}`,
          );
          assert.equal(markerOf(s.getChildText("body") ?? ""), i, `${context}: wrong message`);
          const aware = people.find((p) => p.jid === to)?.labelAware === true;
          assert.ok(
            showsLabel(s, effective, aware),
            `${context}: ${aware ? "carries" : "FLOT shows"} ${show(carriedLabel(s))} / ${s.getChildText("body")?.split("\n")[0]}`,
          );
        }
        // And nothing is held back from anyone entitled (the property would hold vacuously otherwise).
        const mayAct = action.kind === "pm" || sender.role === "moderator" || sender.role === "participant";
        const recipients = action.kind === "groupchat" ? people : [recipient!];
        const entitled =
          gateOk && mayAct && effective
            ? recipients
                .filter((p) => oracleGrants(knownClearance(stateOf.get(p.jid)!), effective))
                .map((p) => p.jid)
            : [];
        assert.deepEqual(out.map((s) => s.attrs.to).sort(), [...entitled].sort(), `${context}: recipients`);
        if (out.length > 0 && effective) accepted.set(i, { label: effective, kind: action.kind });
      }

      // History replay to joiners with random clearances and random <history/> limits.
      // Issue 15 item 7: history keeps the newest historyLength entries of each label, so what a
      // joiner is replayed is never shaped by traffic it may not see.
      const groupchats = [...accepted].filter(([, a]) => a.kind === "groupchat");
      const inHistory = groupchats
        .filter(
          ([i, a], at) =>
            groupchats.slice(at + 1).filter(([, b]) => show(b.label) === show(a.label)).length <
              sc.historyLength && i >= 0,
        )
        .map(([i]) => i);
      if (sc.historyLength === 0) assert.equal(room.history.length, 0);
      if (sc.laterServiceClearance)
        ctx.settings.serviceClearance = realClearance(policy, sc.laterServiceClearance);
      const bound = sc.laterServiceClearance ?? sc.serviceClearance;
      const mayReplay = (state: SimpleState, label: SimpleLabel) =>
        oracleGrants(knownClearance(state), label) && (bound === undefined || oracleGrants(bound, label));
      for (const [j, joinerSpec] of sc.joiners.entries()) {
        const joiner = occupant(roomJid, 100 + j, joinerSpec.state, joinerSpec.aware, "participant");
        const replay = historyStanzas(ctx, room, joiner, joinerSpec.request, await readServiceBound(ctx)).map(
          parseElement,
        );
        const seen: number[] = [];
        for (const s of replay) {
          const i = markerOf(s.getChildText("body") ?? "");
          assert.ok(i !== undefined, "replayed message without its body");
          const msg = accepted.get(i);
          assert.ok(
            msg && msg.kind === "groupchat",
            `history replayed message ${i}, which was never a delivered groupchat`,
          );
          assert.ok(
            mayReplay(joinerSpec.state, msg.label),
            `history gave ${show(msg.label)} to ${JSON.stringify(joinerSpec.state)} (service ${JSON.stringify(bound)})`,
          );
          assert.ok(
            showsLabel(s, msg.label, joiner.labelAware === true),
            `history copy shows ${show(carriedLabel(s))} for ${show(msg.label)}`,
          );
          assert.equal(s.attrs.to, joiner.jid);
          seen.push(i);
        }
        // Without limits, the joiner gets every retained message it is cleared for, in order.
        const unlimited = historyStanzas(ctx, room, joiner, {}, await readServiceBound(ctx)).map((s) =>
          markerOf(parseElement(s).getChildText("body") ?? ""),
        );
        const cleared =
          sc.historyLength === 0
            ? []
            : inHistory.filter((i) => mayReplay(joinerSpec.state, accepted.get(i)!.label));
        assert.deepEqual(unlimited, cleared);
        if (joinerSpec.request.maxStanzas !== undefined)
          assert.ok(seen.length <= joinerSpec.request.maxStanzas);

        // The archive (XEP-0313) of the same history, asked by the joiner as an occupant: the same
        // messages, each carried as the joiner may see it; nothing at all while its clearance is unknown.
        room.add(joiner);
        const sentBefore = ctx.sent.length;
        const payload = xml("query", { xmlns: "urn:xmpp:mam:2", queryid: "p" });
        const asked = queryArchive(ctx, room, {
          stanza: xml("iq", { type: "set", id: "a", from: joiner.jid, to: roomJid }, payload),
          payload,
          type: "set",
          from: joiner.jid,
          to: roomJid,
          id: "a",
        });
        if (joinerSpec.state.kind !== "known") await assert.rejects(asked);
        else await asked;
        const archived = ctx.sent.slice(sentBefore).map(parseElement);
        assert.ok(archived.every((m) => m.attrs.to === joiner.jid));
        const inner = archived.map((m) =>
          m
            .getChild("result", "urn:xmpp:mam:2")!
            .getChild("forwarded", "urn:xmpp:forward:0")!
            .getChild("message")!,
        );
        for (const m of inner) {
          const msg = accepted.get(markerOf(m.getChildText("body") ?? "") ?? -1);
          assert.ok(
            msg && msg.kind === "groupchat" && mayReplay(joinerSpec.state, msg.label),
            `the archive gave ${m.toString()} to ${JSON.stringify(joinerSpec.state)}`,
          );
          assert.ok(
            showsLabel(m, msg.label, joiner.labelAware === true),
            "archived copy shows the wrong label",
          );
        }
        assert.deepEqual(
          inner.map((m) => markerOf(m.getChildText("body") ?? "")),
          joinerSpec.state.kind === "known" ? cleared : [],
        );
        room.remove(joiner);
      }
    }),
    { numRuns: 400 },
  );
});

// ── Races (issue 15 item 1): a directory whose answers are slow and come back in any order ─────
// Users join rooms, are lowered and raised, speak; whole-room re-reads run; each directory answer
// is released in a random order, each the value as it was when read. The property: no copy of a
// message, live or replayed, and no admission reaches a user whose latest notified clearance does
// not grant it — at the moment it is sent, not once the re-reads have caught up. When everything
// has been answered, every occupant holds its latest clearance.
const RACE_USERS = ["u0", "u1"] as const;
const raceClearanceArb: fc.Arbitrary<SimpleState> = fc.constantFrom<SimpleState>(
  { kind: "known", clearance: { classes: [...CLASSES], cats: [...CATEGORIES] } },
  {
    kind: "known",
    clearance: { classes: ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"], cats: [] },
  },
  { kind: "known", clearance: { classes: ["UNCLASSIFIED", "CONFIDENTIAL"], cats: [] } },
  { kind: "known", clearance: { classes: ["UNCLASSIFIED"], cats: [] } },
  { kind: "none" },
);
const raceLabelArb = fc.constantFrom<SimpleLabel>(
  { cls: "UNCLASSIFIED", cats: [] },
  { cls: "CONFIDENTIAL", cats: [] },
  { cls: "SECRET", cats: [] },
  { cls: "SECRET", cats: ["ALPHA"] },
);
const raceOpArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("set" as const), user: fc.nat(), state: raceClearanceArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("release" as const),
      pick: fc.nat(),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("refresh" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("join" as const), user: fc.nat(), room: fc.nat() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("say" as const),
      user: fc.nat(),
      room: fc.nat(),
      label: raceLabelArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("leave" as const), user: fc.nat(), room: fc.nat() }),
  },
);
const raceScenarioArb = fc.record({
  roomLabels: fc.tuple(raceLabelArb, raceLabelArb).map((ls) => ls.filter((l) => l.cats.length === 0)),
  initial: fc.tuple(raceClearanceArb, raceClearanceArb),
  ops: fc.array(raceOpArb, { minLength: 5, maxLength: 40 }),
});

test("no message, history replay or admission reaches a user its latest notified clearance does not grant, whatever the order the directory answers in", async () => {
  let deliveries = 0;
  await fc.assert(
    fc.asyncProperty(raceScenarioArb, async (sc) => {
      const r = raceContext({ registry, policy });
      try {
        const roomLabels = sc.roomLabels.length > 0 ? sc.roomLabels : [{ cls: "UNCLASSIFIED", cats: [] }];
        const rooms = roomLabels.map((l, i) => {
          const room = roomWith(
            r.ctx,
            `r${i}`,
            realLabel(policy, l),
            realClearance(policy, { classes: [...CLASSES], cats: [...CATEGORIES] }),
          );
          room.config = { ...room.config, persistent: true, historyLength: 20 };
          return { room, label: l };
        });
        const bareOf = (u: string) => `${u}@example.test`;
        const truth = new Map<string, SimpleState>();
        const setTruth = (user: string, state: SimpleState, quiet: boolean) => {
          truth.set(bareOf(user), state);
          const value = state.kind === "known" ? raw(realClearance(policy, state.clearance)) : undefined;
          if (quiet) r.dir.setQuietly(bareOf(user), value);
          else r.dir.set(bareOf(user), value);
        };
        RACE_USERS.forEach((u, i) => setTruth(u, sc.initial[i]!, true));
        // Who is in already (a join completed before the scenario): where their clearance grants it.
        RACE_USERS.forEach((u, i) => {
          const held = knownClearance(sc.initial[i]!);
          for (const { room, label } of rooms)
            if (held && oracleGrants(held, label)) seat(room, u, realClearance(policy, held));
        });
        const labelOf = new Map<number, SimpleLabel>();
        const running: Promise<unknown>[] = [];
        let checked = 0;
        const seated = new Set<string>();
        for (const { room } of rooms)
          for (const o of room.occupants.values()) seated.add(`${room.jid} ${o.jid}`);
        const check = (context: string) => {
          for (const s of r.ctx.sent.slice(checked).map(parseElement)) {
            const to = s.attrs.to ?? "";
            const bare = to.slice(0, to.indexOf("/"));
            const held = knownClearance(truth.get(bare) ?? { kind: "none" });
            const i = markerOf(s.getChildText("body") ?? "");
            if (s.is("message") && i !== undefined) {
              deliveries++;
              const l = labelOf.get(i)!;
              assert.ok(
                oracleGrants(held, l),
                `${context}: ${to} (now ${JSON.stringify(held)}) got ${show(l)}`,
              );
            }
          }
          // Admissions: whoever is in a room now and was not before is cleared for its label now.
          for (const { room, label } of rooms)
            for (const o of room.occupants.values()) {
              const key = `${room.jid} ${o.jid}`;
              if (seated.has(key)) continue;
              seated.add(key);
              const held = knownClearance(truth.get(o.bare) ?? { kind: "none" });
              assert.ok(
                oracleGrants(held, label),
                `${context}: ${o.jid} (now ${JSON.stringify(held)}) entered a ${show(label)} room`,
              );
            }
          for (const key of [...seated]) {
            const [roomJid, jid] = key.split(" ");
            if (!r.ctx.rooms.get(roomJid!)?.byJid.has(jid!)) seated.delete(key);
          }
          checked = r.ctx.sent.length;
        };
        for (const [n, op] of sc.ops.entries()) {
          const user = "user" in op ? RACE_USERS[op.user % RACE_USERS.length]! : "";
          const jid = `${bareOf(user)}/r`;
          const at = "room" in op ? rooms[op.room % rooms.length]!.room : undefined;
          if (op.kind === "set") setTruth(user, op.state, false);
          else if (op.kind === "release") {
            for (let k = 0; k < op.count && r.dir.reads.length > 0; k++)
              r.dir.reads[(op.pick + k) % r.dir.reads.length]!.release();
          } else if (op.kind === "refresh") running.push(r.watch.refresh());
          else if (op.kind === "join" && at) {
            const stanza = xml(
              "presence",
              { from: jid, to: `${at.jid}/${user}` },
              xml("x", { xmlns: "http://jabber.org/protocol/muc" }),
            );
            running.push(onRoomPresence(r.ctx, stanza, at.jid, user));
          } else if (op.kind === "leave" && at) {
            const stanza = xml("presence", { from: jid, to: `${at.jid}/${user}`, type: "unavailable" });
            running.push(onRoomPresence(r.ctx, stanza, at.jid, user));
          } else if (op.kind === "say" && at) {
            const sender = at.byJid.get(jid);
            if (sender) {
              labelOf.set(n, op.label);
              await onGroupchat(
                r.ctx,
                at,
                sender,
                xml(
                  "message",
                  { from: jid, to: at.jid, type: "groupchat", id: `m${n}` },
                  xml("body", {}, `${marker(n)} text`),
                  parseElement(buildSecurityLabelXml(realLabel(policy, op.label))),
                ),
              );
            }
          }
          await settle();
          check(`op ${n} ${JSON.stringify(op)}`);
        }
        // Everything answered (in the order asked), a periodic re-read: every occupant holds its latest clearance.
        r.dir.fast = true;
        for (let k = 0; k < 200 && r.dir.reads.length > 0; k++) {
          r.dir.reads[0]!.release();
          await settle();
          check("draining");
        }
        assert.equal(r.dir.reads.length, 0);
        await Promise.all(running);
        await r.watch.refresh();
        await settle();
        check("after the last re-read");
        for (const { room, label } of rooms)
          for (const o of room.occupants.values()) {
            const state = truth.get(o.bare)!;
            assert.ok(oracleGrants(knownClearance(state), label), `${o.bare} still in a ${show(label)} room`);
            assert.equal(o.clearance.status, "known", `${o.bare} never got its clearance back`);
            assert.equal(
              o.clearance.status === "known" && o.clearance.fingerprint,
              `ber:${raw(realClearance(policy, (state as { clearance: SimpleClearance }).clearance)).data}`,
              `${o.bare} holds an older clearance`,
            );
          }
      } finally {
        r.watch.stop();
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(deliveries > 100, `the scenarios delivered too little to mean anything (${deliveries})`);
});

// ── History is not shaped by traffic a joiner may not see (issue 15 item 7) ────────────────────
// The same visible traffic, once alone and once interleaved with traffic the joiner is not cleared
// for (any amount, any size): the joiner is replayed exactly the same history, whatever it asks for.
test("a joiner's history replay is the same whatever traffic it may not see was sent in between", async () => {
  const ALL_STATE: SimpleClearance = { classes: [...CLASSES], cats: [...CATEGORIES] };
  const msgArb = fc.record({ label: labelArb.filter(oracleValid), size: fc.integer({ min: 1, max: 400 }) });
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        joiner: clearanceArb,
        historyLength: fc.integer({ min: 1, max: 6 }),
        traffic: fc.array(msgArb, { maxLength: 30 }),
        request: requestArb,
      }),
      async (sc) => {
        const replayed = async (withHidden: boolean): Promise<(number | undefined)[]> => {
          const ctx = capturingContext(registry, policy, {
            domain: "rooms.example.test",
            defaultRoomLabel: realLabel(policy, { cls: "UNCLASSIFIED", cats: [] }),
            limits: { history: { roomBytes: 8_000, totalBytes: 10_000_000 } },
          });
          // Time is not traffic: the clock stands still (a <history seconds/> request counts the same).
          const clock = Date.UTC(2025, 0, 1);
          const still: typeof ctx = { ...ctx, now: () => clock };
          const room = new Room(
            "ops@rooms.example.test",
            { ...DEFAULT_ROOM_CONFIG, historyLength: sc.historyLength },
            {
              label: realLabel(policy, { cls: "UNCLASSIFIED", cats: [] }),
              clearance: realClearance(policy, ALL_STATE),
              defaultLabel: undefined,
              raw: {},
            },
            ctx.budgets,
          );
          const sender = occupant(room.jid, 0, { kind: "known", clearance: ALL_STATE }, true, "moderator");
          room.add(sender);
          for (const [i, m] of sc.traffic.entries()) {
            const visible = oracleGrants(sc.joiner, m.label);
            if (!visible && !withHidden) continue;
            await onGroupchat(
              still,
              room,
              sender,
              xml(
                "message",
                { from: sender.jid, to: room.jid, type: "groupchat", id: `m${i}` },
                xml("body", {}, `${marker(i)} ${"x".repeat(m.size)}`),
                parseElement(buildSecurityLabelXml(realLabel(policy, m.label))),
              ),
            );
          }
          const joiner = occupant(room.jid, 1, { kind: "known", clearance: sc.joiner }, true, "participant");
          return historyStanzas(still, room, joiner, sc.request, await readServiceBound(still)).map((s) =>
            markerOf(parseElement(s).getChildText("body") ?? ""),
          );
        };
        assert.deepEqual(await replayed(true), await replayed(false));
      },
    ),
    { numRuns: 300 },
  );
});
