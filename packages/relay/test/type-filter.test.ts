import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { directionsOf, routeOf } from "../src/direction.js";
import { checkType, isMucTraffic } from "../src/type-filter.js";
import { el, peering } from "./fixtures.js";
import type { DirectionRules } from "../src/peering.js";

function check(stanza: string, rules: Partial<DirectionRules>) {
  const { outbound } = directionsOf(peering(rules));
  const r = routeOf(el(stanza), outbound);
  assert.ok(r.ok);
  return { refusal: checkType(r.route, outbound), muc: isMucTraffic(r.route, outbound) };
}

describe("checkType", () => {
  test("message types outside the allowed list are refused", () => {
    assert.equal(
      check("<message type='headline' from='a@tlpx.test' to='b@tlp.test'/>", { messageTypes: ["chat"] })
        .refusal,
      "type-denied",
    );
    assert.equal(
      check("<message type='chat' from='a@tlpx.test' to='b@tlp.test'/>", { messageTypes: ["chat"] }).refusal,
      undefined,
    );
    assert.equal(
      check("<message from='a@tlpx.test' to='b@tlp.test'/>", { messageTypes: ["chat"] }).refusal,
      "type-denied",
      "no type means normal",
    );
  });

  test("muc-only admits groupchat and traffic with MUC domains, nothing else", () => {
    const gc = check("<message type='groupchat' from='a@tlpx.test/r' to='room@rooms.tlp.test'/>", {
      mode: "muc-only",
    });
    assert.deepEqual(gc, { refusal: undefined, muc: true });
    assert.equal(
      check("<presence from='a@tlpx.test/r' to='room@rooms.tlp.test/nick'/>", { mode: "muc-only" }).refusal,
      undefined,
    );
    assert.equal(
      check("<message type='chat' from='a@tlpx.test/r' to='b@tlp.test'/>", { mode: "muc-only" }).refusal,
      "mode-muc-only",
    );
  });

  test("one-to-one-only refuses groupchat and MUC domains", () => {
    assert.equal(
      check("<message type='groupchat' from='a@tlpx.test/r' to='room@rooms.tlp.test'/>", {
        mode: "one-to-one-only",
      }).refusal,
      "mode-one-to-one-only",
    );
    assert.equal(
      check("<message type='chat' from='a@tlpx.test/r' to='b@tlp.test'/>", { mode: "one-to-one-only" })
        .refusal,
      undefined,
    );
  });

  // Changed: errors were never judged here, so one-to-one-only let errors to a MUC domain through.
  test("errors are not refused by message type, but are by traffic mode", () => {
    assert.equal(
      check("<message type='error' from='a@tlpx.test' to='b@tlp.test'/>", { messageTypes: [] }).refusal,
      undefined,
    );
    assert.equal(
      check("<message type='error' from='a@tlpx.test' to='room@rooms.tlp.test'/>", {
        mode: "one-to-one-only",
      }).refusal,
      "mode-one-to-one-only",
    );
  });
});
