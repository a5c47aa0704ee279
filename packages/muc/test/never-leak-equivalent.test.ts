// Never-leak across equivalent policies (issue 15 item 10; XML-SPIF equivalentPolicy): a room
// governed by TLP (test/conformance) whose occupants hold clearances under TLP or under its
// equivalent TLPX. The real groupchat handler runs with the real policy engine; random clearances,
// labels and traffic. The oracle is written here from the two policies' text: WHITE, GREEN, AMBER
// and RED are the same classification (the same LACV) in both, so an occupant may read a message
// exactly when their clearance, whatever its policy, holds its colour — and sees the label in its
// own policy. Before the fix, every TLPX sender was refused and every TLPX occupant got nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { xml, parseElement } from "@cordon/component";
import {
  buildSecurityLabelXml,
  labelMarking,
  makeClearance,
  makeLabel,
  PolicyError,
  PolicyRegistry,
  securityLabelForms,
  type Policy,
} from "@cordon/policy";
import type { ClearanceState } from "@cordon/rules";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { NS_SEC_LABEL } from "../src/namespaces.js";
import { capturingContext, demoPolicyPath } from "./muc-test-context.js";

const TLPX = "1.3.6.1.4.1.99999.2.2";
const TLP = "1.3.6.1.4.1.99999.2.3";
const COLOURS = ["WHITE", "GREEN", "AMBER", "RED"] as const;
type Colour = (typeof COLOURS)[number];
const PREFIX: Record<string, string> = { [TLP]: "TLP:", [TLPX]: "TLPX:" };

// test/conformance beside deploy/ (found from the demo policy's path).
const corpus = join(dirname(dirname(dirname(demoPolicyPath()))), "test", "conformance");
const registry = new PolicyRegistry();
for (const f of ["tlp-extended-policy.xml", "tlp-policy.xml"])
  registry.loadString(readFileSync(join(corpus, f), "utf8"));
const tlp = registry.require(TLP);
const cls = (p: Policy, name: string) => p.classifications.find((c) => c.name === name)!;

interface Person {
  policy: typeof TLP | typeof TLPX;
  colours: Colour[] | undefined; // undefined: clearance unknown (store down)
  aware: boolean;
}
const personArb: fc.Arbitrary<Person> = fc.record({
  policy: fc.constantFrom(TLP, TLPX),
  colours: fc.option(fc.subarray([...COLOURS]), { nil: undefined, freq: 8 }),
  aware: fc.boolean(),
});
const scenarioArb = fc.record({
  people: fc.array(personArb, { minLength: 1, maxLength: 6 }),
  // AMBER in TLPX needs a sharing community, so TLP labels go out as WHITE, GREEN or RED.
  messages: fc.array(
    fc.record({ sender: fc.nat(), colour: fc.constantFrom<Colour>("WHITE", "GREEN", "RED") }),
    {
      maxLength: 10,
    },
  ),
});

function state(p: Person): ClearanceState {
  if (!p.colours) return { status: "unknown", reason: "test" };
  const policy = registry.require(p.policy);
  return {
    status: "known",
    clearance: makeClearance(
      policy,
      p.colours.map((c) => cls(policy, c)),
      [],
    ),
    fingerprint: `${p.policy} ${p.colours.join()}`,
  };
}

test("across equivalent policies, every occupant gets exactly the messages its clearance holds, in its own policy", async () => {
  const white = makeLabel(tlp, cls(tlp, "WHITE"), []);
  const everything = makeClearance(
    tlp,
    COLOURS.map((c) => cls(tlp, c)),
    [],
  );
  await fc.assert(
    fc.asyncProperty(scenarioArb, async (sc) => {
      const roomJid = "ops@rooms.example.test";
      const ctx = capturingContext(registry, tlp, { defaultRoomLabel: white, defaultMessageLabel: white });
      const room = new Room(
        roomJid,
        { ...DEFAULT_ROOM_CONFIG },
        { label: white, clearance: everything, defaultLabel: white, raw: {} },
      );
      const people: Occupant[] = sc.people.map((p, i) => ({
        nick: `n${i}`,
        jid: `u${i}@example.test/r`,
        bare: `u${i}@example.test`,
        role: "participant",
        affiliation: "none",
        occupantId: `oid-${i}`,
        clearance: state(p),
        labelAware: p.aware,
        presenceXml: "",
        joinedAt: 0,
      }));
      for (const o of people) room.add(o);
      for (const [i, m] of sc.messages.entries()) {
        const s = m.sender % people.length;
        const label = makeLabel(tlp, cls(tlp, m.colour), []);
        const before = ctx.sent.length;
        const refusedBefore = ctx.refused.length;
        await onGroupchat(
          ctx,
          room,
          people[s]!,
          xml(
            "message",
            { from: people[s]!.jid, to: roomJid, type: "groupchat", id: `m${i}` },
            xml("body", {}, `msg ${i}`),
            parseElement(buildSecurityLabelXml(label)),
          ),
        );
        const holds = (p: Person) => p.colours?.includes(m.colour) === true;
        const context = `message ${i} ${m.colour} from ${JSON.stringify(sc.people[s])}`;
        if (!holds(sc.people[s]!)) {
          assert.equal(ctx.sent.length, before, `${context}: sent`);
          assert.equal(ctx.refused.length, refusedBefore + 1, `${context}: not refused`);
          continue;
        }
        assert.equal(ctx.refused.length, refusedBefore, `${context}: refused`);
        const out = ctx.sent.slice(before).map(parseElement);
        const expected = people.filter((_, j) => holds(sc.people[j]!)).map((o) => o.jid);
        assert.deepEqual(out.map((o) => o.attrs.to).sort(), expected.sort(), `${context}: recipients`);
        for (const copy of out) {
          const j = people.findIndex((o) => o.jid === copy.attrs.to);
          const person = sc.people[j]!;
          const marking = `${PREFIX[person.policy]}${m.colour}`;
          if (person.aware) {
            const el = copy.getChild("securitylabel", NS_SEC_LABEL)!;
            assert.equal(el.getChildText("displaymarking"), marking, context);
            const decoded = securityLabelForms(el.toString(), registry);
            const form = decoded.kind === "forms" ? decoded.forms[0] : undefined;
            assert.ok(form && !(form instanceof PolicyError), context);
            assert.equal(form.policy.id, person.policy, `${context}: the label in the occupant's policy`);
            assert.equal(form.classification.name, m.colour, context);
            assert.equal(labelMarking(form), marking);
          } else {
            assert.equal((copy.getChildText("body") ?? "").split("\n")[0], marking, `${context}: FLOT`);
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});
