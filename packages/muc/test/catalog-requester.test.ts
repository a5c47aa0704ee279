import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, StanzaErrorException, type IqRequest } from "@cordon/component";
import { catalogRequester } from "../src/service/catalog-requester.js";

const ctx = { settings: { catalogServices: ["Catalog.Example.TEST"] } } as unknown as Parameters<
  typeof catalogRequester
>[0];

function request(from: string, onBehalf?: string): IqRequest {
  const payload = parseElement(
    `<catalog xmlns='urn:xmpp:sec-label:catalog:2' to='r@rooms.example.test'${onBehalf ? ` from='${onBehalf}'` : ""}/>`,
  );
  return { stanza: payload, payload, type: "get", from, to: "r@rooms.example.test", id: "1" };
}
const refused = (condition: string) => (e: unknown) =>
  e instanceof StanzaErrorException && e.spec.condition === condition;

test("a room catalog is the sender's own, unless a trusted catalog service asks on a user's behalf", () => {
  assert.equal(catalogRequester(ctx, request("alice@example.test/phone")), "alice@example.test");
  assert.equal(
    catalogRequester(ctx, request("catalog.example.test", "Carol@Example.TEST/x".replace("/x", ""))),
    "carol@example.test",
  );
});

// Issue 15 item 9: the MUC ignored <catalog from>; it is honoured now, so only a catalog domain the
// MUC trusts may use it — a user (or any other domain) naming someone else learns nothing of theirs.
test("<catalog from> from anyone but a trusted catalog service is refused forbidden", () => {
  assert.throws(
    () => catalogRequester(ctx, request("bob@example.test/pc", "carol@example.test")),
    refused("forbidden"),
  );
  assert.throws(
    () => catalogRequester(ctx, request("other.example.test", "carol@example.test")),
    refused("forbidden"),
  );
  assert.throws(
    () => catalogRequester(ctx, request("catalog.example.test/res", "carol@example.test")),
    refused("forbidden"),
  );
  assert.throws(
    () =>
      catalogRequester({ settings: {} } as typeof ctx, request("catalog.example.test", "carol@example.test")),
    refused("forbidden"),
  );
  // A trusted service must name a user.
  assert.throws(
    () => catalogRequester(ctx, request("catalog.example.test", "example.test")),
    refused("bad-request"),
  );
  assert.throws(
    () => catalogRequester(ctx, request("catalog.example.test", "carol@example.test/phone")),
    refused("bad-request"),
  );
});
