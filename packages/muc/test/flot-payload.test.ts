// Issue 15 item 6: a label-unaware client never sees labelled text without its marking — a private
// message's subject, an OOB link sent without a body, an invitation's reason, history replay.
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, type Element } from "@cordon/component";
import { labelMarking } from "@cordon/policy";
import type { Room } from "../src/room/room.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { onPrivateMessage } from "../src/service/private-message.js";
import { onInvite } from "../src/service/invite.js";
import { historyStanzas } from "../src/service/history-replay.js";
import { readServiceBound } from "../src/security/service-clearance.js";
import { flotPayload } from "../src/service/flot-payload.js";
import type { CapturingContext } from "./muc-test-context.js";
import { label, clearance, labelXml, ALL } from "./fixtures.js";
import { ROOM, person, roomWith, unclassifiedContext } from "./room-fixture.js";

const S = label("SECRET");
const SECRET = labelMarking(S);

function setup(): { ctx: CapturingContext; room: Room; aware: Occupant; plain: Occupant } {
  const ctx = unclassifiedContext();
  const aware = person("aware", clearance(ALL), true);
  const plain = person("plain", clearance(ALL), false);
  const room = roomWith(ctx, [aware, plain]);
  return { ctx, room, aware, plain };
}

const copyTo = (ctx: CapturingContext, jid: string): Element =>
  parseElement(ctx.sent.filter((s) => s.includes(`to="${jid}"`)).at(-1)!);

test("a private message's subject reaches a label-unaware recipient marked", async () => {
  const { ctx, room, aware, plain } = setup();
  await onPrivateMessage(
    ctx,
    room,
    aware,
    xml(
      "message",
      { from: aware.jid, to: `${ROOM}/plain`, type: "chat", id: "p1" },
      xml("subject", {}, "PM-SUBJECT"),
      xml("body", {}, "PM-BODY"),
      parseElement(labelXml(S)),
    ),
    "plain",
  );
  const copy = copyTo(ctx, plain.jid);
  assert.equal(copy.getChildText("subject"), `${SECRET}\nPM-SUBJECT`);
  assert.equal(copy.getChildText("body"), `${SECRET}\nPM-BODY`);
});

test("an OOB link without a body: a marking body and a marked description for label-unaware clients, live and in history", async () => {
  const { ctx, room, aware, plain } = setup();
  await onGroupchat(
    ctx,
    room,
    aware,
    xml(
      "message",
      { from: aware.jid, to: ROOM, type: "groupchat", id: "o1" },
      xml(
        "x",
        { xmlns: "jabber:x:oob" },
        xml("url", {}, "https://files.test/plan.pdf"),
        xml("desc", {}, "OOB-DESC"),
      ),
      parseElement(labelXml(S)),
    ),
  );
  const copy = copyTo(ctx, plain.jid);
  assert.equal(copy.getChildText("body"), SECRET);
  assert.equal(copy.getChild("x", "jabber:x:oob")?.getChildText("desc"), `${SECRET}\nOOB-DESC`);
  const forAware = copyTo(ctx, aware.jid);
  assert.equal(forAware.getChild("body"), undefined, "a label-aware client gets it as sent");
  assert.equal(forAware.getChild("x", "jabber:x:oob")?.getChildText("desc"), "OOB-DESC");
  const joiner = person("late", clearance(ALL), false);
  const [replayed] = historyStanzas(ctx, room, joiner, {}, await readServiceBound(ctx)).map(parseElement);
  assert.equal(replayed?.getChildText("body"), SECRET);
  assert.equal(replayed?.getChild("x", "jabber:x:oob")?.getChildText("desc"), `${SECRET}\nOOB-DESC`);
});

test("a chat state without a body gets no body", async () => {
  const { ctx, room, aware, plain } = setup();
  await onGroupchat(
    ctx,
    room,
    aware,
    xml(
      "message",
      { from: aware.jid, to: ROOM, type: "groupchat", id: "c1" },
      xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" }),
    ),
  );
  assert.equal(copyTo(ctx, plain.jid).getChild("body"), undefined);
});

test("an invitation's reason carries the marking", async () => {
  const { ctx, room, aware } = setup();
  await ctx.store.setUserClearance("guest@example.test", {
    encoding: "ber",
    data: Buffer.from((await import("@cordon/policy")).encodeBerClearance(clearance(ALL))).toString("base64"),
  });
  await onInvite(
    ctx,
    room,
    aware,
    xml(
      "message",
      { from: aware.jid, to: ROOM, id: "i1" },
      xml(
        "x",
        { xmlns: "http://jabber.org/protocol/muc#user" },
        xml("invite", { to: "guest@example.test" }, xml("reason", {}, "INVITE-REASON")),
      ),
      parseElement(labelXml(S)),
    ),
    parseElement(`<invite to="guest@example.test"><reason>INVITE-REASON</reason></invite>`),
  );
  const sent = parseElement(ctx.sent.at(-1)!);
  const reason = sent
    .getChild("x", "http://jabber.org/protocol/muc#user")
    ?.getChild("invite")
    ?.getChildText("reason");
  assert.equal(reason, `${SECRET}\nINVITE-REASON`);
});

test("flotPayload: unreadable payload is left out", () => {
  assert.equal(flotPayload("<x", "M", true), "");
  assert.equal(flotPayload("<x", "M", false), "<body>M</body>");
  assert.equal(flotPayload("", "M", false), "");
});
