// Issue 15 item 4, as a property (fast-check): whatever the traffic — random labels, random
// clearances, messages referring to earlier ones by id or stanza-id through random reference
// elements, groupchat and private — no occupant receives a message that refers to one it may not
// read, and no accepted message refers to one its label does not dominate — across restarts too
// (adversarial review): the room reloaded from its record, with what its history kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { xml, parseElement, type Element } from "@cordon/component";
import { acdf, type Label } from "@cordon/policy";
import { Room } from "../src/room/room.js";
import { DEFAULT_ROOM_CONFIG } from "../src/room/room-config.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onPrivateMessage } from "../src/service/private-message.js";
import { historyStanzas } from "../src/service/history-replay.js";
import { readServiceBound } from "../src/security/service-clearance.js";
import { labelDominates } from "../src/security/message-references.js";
import { roomFromRecord, roomToRecord } from "../src/service/persistence.js";
import { capturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, labelXml, ALL } from "./fixtures.js";

const ROOM = "ops@rooms.example.test";
const U = label("UNCLASSIFIED");
const LABELS: Label[] = [
  U,
  label("CONFIDENTIAL"),
  label("SECRET"),
  label("SECRET", "ALPHA"),
  label("SECRET", "GBR"),
  label("SECRET", "GBR", "USA"),
  label("TOP SECRET"),
];
const CLEARANCES = [
  clearance(ALL, ["ALPHA", "GBR", "USA"]),
  clearance(ALL, ["GBR"]),
  clearance(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL"]),
  clearance(["UNCLASSIFIED"]),
  clearance(["SECRET"], ["USA"]),
];
const REFERENCES = [
  (id: string) => xml("replace", { xmlns: "urn:xmpp:message-correct:0", id }),
  (id: string) => xml("reply", { xmlns: "urn:xmpp:reply:0", id }),
  (id: string) => xml("reactions", { xmlns: "urn:xmpp:reactions:0", id }, xml("reaction", {}, "+")),
  (id: string) => xml("displayed", { xmlns: "urn:xmpp:chat-markers:0", id }),
  (id: string) =>
    xml(
      "apply-to",
      { xmlns: "urn:xmpp:fasten:0", id },
      xml("retract", { xmlns: "urn:xmpp:message-retract:0" }),
    ),
];

const action = fc.record({
  sender: fc.nat(4),
  label: fc.option(fc.nat(LABELS.length - 1), { nil: undefined }),
  pm: fc.option(fc.nat(4), { nil: undefined, freq: 4 }),
  ref: fc.option(fc.record({ back: fc.nat(6), bySid: fc.boolean(), kind: fc.nat(REFERENCES.length - 1) }), {
    nil: undefined,
  }),
  /** The component restarts before this message: the room is read back from its record. */
  restart: fc.nat(7).map((n) => n === 0),
});

test("no copy of a message reaches an occupant who may not read a message it refers to; references are dominated", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(action, { minLength: 1, maxLength: 25 }),
      fc.array(fc.nat(CLEARANCES.length - 1), { minLength: 5, maxLength: 5 }),
      fc.nat(3),
      async (actions, who, historyLength) => {
        const everything = clearance(ALL, ["ALPHA", "BRAVO", "GBR", "USA", "FRA"]);
        const ctx = capturingContext(registry, policy, {
          defaultRoomLabel: U,
          defaultMessageLabel: U,
          defaultRoomClearance: everything,
        });
        let room = new Room(
          ROOM,
          { ...DEFAULT_ROOM_CONFIG, historyLength },
          {
            label: undefined,
            clearance: everything,
            defaultLabel: U,
            raw: {},
          },
        );
        const people: Occupant[] = who.map((c, i) => ({
          nick: `p${i}`,
          jid: `p${i}@example.test/r`,
          bare: `p${i}@example.test`,
          role: "participant",
          affiliation: "none",
          occupantId: `o${i}`,
          clearance: { status: "known", clearance: CLEARANCES[c]!, fingerprint: String(c) },
          labelAware: i % 2 === 0,
          presenceXml: "",
          joinedAt: 0,
        }));
        for (const p of people) room.add(p);
        /** Accepted messages: id, stanza-id (groupchat) and label. */
        const accepted: { id: string; sid: string | undefined; label: Label }[] = [];
        for (const [i, a] of actions.entries()) {
          if (a.restart) {
            // As loadRooms does: the record, then the history it kept; the clients join again.
            const reloaded = roomFromRecord(ctx, roomToRecord(room)).room;
            for (const entry of room.history) reloaded.pushHistory(entry);
            room.releaseHistory();
            for (const p of people) reloaded.add(p);
            room = reloaded;
          }
          const sender = people[a.sender]!;
          const own = a.label === undefined ? U : LABELS[a.label]!;
          const target =
            a.ref && accepted.length > 0
              ? accepted[Math.max(0, accepted.length - 1 - a.ref.back)]
              : undefined;
          const refId = target ? (a.ref!.bySid && target.sid ? target.sid : target.id) : undefined;
          const children: Element[] = [
            xml("body", {}, `m${i}`),
            ...(a.label !== undefined ? [parseElement(labelXml(own))] : []),
            ...(refId ? [REFERENCES[a.ref!.kind]!(refId)] : []),
          ];
          const before = ctx.sent.length;
          const recipient = a.pm === undefined ? undefined : people[a.pm]!;
          if (recipient)
            await onPrivateMessage(
              ctx,
              room,
              sender,
              xml(
                "message",
                { from: sender.jid, to: `${ROOM}/${recipient.nick}`, type: "chat", id: `m${i}` },
                ...children,
              ),
              recipient.nick,
            );
          else
            await onGroupchat(
              ctx,
              room,
              sender,
              xml("message", { from: sender.jid, to: ROOM, type: "groupchat", id: `m${i}` }, ...children),
            );
          const out = ctx.sent.slice(before).map(parseElement);
          if (target && out.length > 0) {
            const senderReads = acdf(target.label, CLEARANCES[who[a.sender]!]!).granted;
            if (senderReads)
              assert.ok(labelDominates(own, target.label), `m${i} accepted without dominating its reference`);
            for (const copy of out) {
              const to = people.find((p) => p.jid === copy.attrs.to)!;
              if (senderReads)
                assert.ok(
                  acdf(target.label, to.clearance.status === "known" ? to.clearance.clearance : undefined)
                    .granted,
                  `m${i} reached ${to.nick}, who may not read ${target.id}`,
                );
            }
          }
          if (out.length > 0)
            accepted.push({
              id: `m${i}`,
              sid: recipient ? undefined : out[0]!.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id,
              label: own,
            });
        }
        // History replays to a late joiner only what it may read, references included.
        for (const c of CLEARANCES) {
          const joiner: Occupant = {
            ...people[0]!,
            jid: "late@example.test/r",
            nick: "late",
            clearance: { status: "known", clearance: c, fingerprint: "x" },
          };
          for (const s of historyStanzas(ctx, room, joiner, {}, await readServiceBound(ctx)).map(
            parseElement,
          )) {
            const entry = room.history.find(
              (e) => e.sid === s.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id,
            )!;
            for (const ref of entry.refs ?? [])
              assert.ok(
                acdf(
                  ctx.labels.read(ref, [ctx.governingPolicy]).ok
                    ? (ctx.labels.read(ref, [ctx.governingPolicy]) as { label: Label }).label
                    : undefined,
                  c,
                ).granted,
                "history gave a reference the joiner may not read",
              );
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});
