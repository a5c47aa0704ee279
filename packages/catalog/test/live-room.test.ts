import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IqError,
  IqTimeoutError,
  parseElement,
  StanzaErrorException,
  type CordonComponent,
  type Element,
} from "@cordon/component";
import { liveRoomCatalog } from "../src/live-room.js";

const NS = "urn:xmpp:sec-label:catalog:2";

function component(answer: (iq: Element) => Element | Error): {
  component: CordonComponent;
  sent: Element[];
} {
  const sent: Element[] = [];
  const fake = {
    request: (iq: Element) => {
      sent.push(iq);
      const a = answer(iq);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
  return { component: fake as unknown as CordonComponent, sent };
}
const refused = (condition: string) => (e: unknown) =>
  e instanceof StanzaErrorException && e.spec.condition === condition;

test("asks the room on the requester's behalf and answers the room's catalog", async () => {
  const { component: c, sent } = component(() =>
    parseElement(
      `<iq type='result'><catalog xmlns='${NS}' to='r@rooms.t' size='1' restrict='true'><item selector='U'/></catalog></iq>`,
    ),
  );
  const catalog = await liveRoomCatalog(c, "r@rooms.t", "alice@t", NS);
  assert.equal(catalog.attrs.size, "1");
  assert.equal(sent[0]!.attrs.to, "r@rooms.t");
  assert.equal(sent[0]!.getChild("catalog", NS)!.attrs.from, "alice@t");
  assert.equal(sent[0]!.getChild("catalog", NS)!.attrs.to, "r@rooms.t");
});

test("fails closed: errors, silence and non-catalog answers are stanza errors, never a catalog", async () => {
  const cases: [Element | Error, string][] = [
    [new IqError("item-not-found"), "item-not-found"],
    [new IqError("service-unavailable"), "item-not-found"],
    [new IqError("forbidden"), "item-not-found"],
    [new IqError("internal-server-error"), "internal-server-error"],
    [new IqTimeoutError(5), "internal-server-error"],
    [parseElement("<iq type='result'/>"), "internal-server-error"],
    [parseElement("<iq type='result'><catalog xmlns='urn:xmpp:other'/></iq>"), "internal-server-error"],
  ];
  for (const [answer, condition] of cases) {
    const { component: c } = component(() => answer);
    await assert.rejects(liveRoomCatalog(c, "r@rooms.t", "alice@t", NS), refused(condition), condition);
  }
});
