// Issue 15 item 12: one source of truth for the service clearance. The MUC reads the store's service
// clearance of its domain through the same reader path as the catalog (ClearanceReader.service),
// beside the configured one: a label outside either is refused in messages, room settings and the
// room's catalog; a store that cannot answer refuses (fail closed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { xml, parseElement, StanzaErrorException } from "@cordon/component";
import { encodeBerClearance, type Clearance } from "@cordon/policy";
import { ClearanceReader } from "@cordon/rules";
import { MemoryStore } from "@cordon/store";
import type { Room } from "../src/room/room.js";
import type { Occupant } from "../src/room/occupant.js";
import { onGroupchat } from "../src/service/groupchat.js";
import { readSubmittedConfig } from "../src/service/room-config-form.js";
import { roomCatalogElement } from "../src/service/room-catalog.js";
import { ClearanceBook } from "../src/security/clearance-book.js";
import { readServiceBound } from "../src/security/service-clearance.js";
import { capturingContext, type CapturingContext } from "./muc-test-context.js";
import { registry, policy, label, clearance, labelXml, ALL } from "./fixtures.js";
import { person, roomWith } from "./room-fixture.js";

const DOMAIN = "rooms.example.test";
const ROOM = `ops@${DOMAIN}`;
const U = label("UNCLASSIFIED");
const S = label("SECRET");
const raw = (c: Clearance) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(c)).toString("base64"),
});

function setup(store: MemoryStore): { ctx: CapturingContext; room: Room; hi: Occupant } {
  const base = capturingContext(registry, policy, {
    domain: DOMAIN,
    defaultRoomLabel: U,
    defaultMessageLabel: U,
    namedLabels: [
      { name: "UNCLASSIFIED", label: U },
      { name: "SECRET", label: S },
    ],
  });
  const ctx: CapturingContext = {
    ...base,
    store,
    clearances: new ClearanceBook({
      reader: new ClearanceReader({ registry, store }),
      localDomains: ["example.test"],
    }),
  };
  const hi = person("hi", clearance(ALL), true, { role: "moderator", affiliation: "owner" });
  const room = roomWith(ctx, [hi]);
  return { ctx, room, hi };
}

const secretMessage = (from: string) =>
  xml(
    "message",
    { from, to: ROOM, type: "groupchat", id: "m1" },
    xml("body", {}, "S-TEXT"),
    parseElement(labelXml(S)),
  );

test("a message label outside the store's service clearance is refused, though the configuration has none", async () => {
  const store = new MemoryStore();
  await store.setServiceClearance(DOMAIN, raw(clearance(["UNCLASSIFIED"])));
  const { ctx, room, hi } = setup(store);
  await onGroupchat(ctx, room, hi, secretMessage(hi.jid));
  assert.equal(ctx.sent.length, 0, "delivered a label the store's service clearance does not grant");
  assert.equal(ctx.refused[0]?.spec.condition, "forbidden");
  // The bound reads the store's change (a notification), as the catalog does.
  await store.setServiceClearance(DOMAIN, raw(clearance(ALL)));
  await onGroupchat(ctx, room, hi, secretMessage(hi.jid));
  assert.equal(ctx.sent.length, 1);
});

test("both apply: the configured service clearance still bounds what the store's allows", async () => {
  const store = new MemoryStore();
  await store.setServiceClearance(DOMAIN, raw(clearance(ALL)));
  const { ctx } = setup(store);
  ctx.settings.serviceClearance = clearance(["UNCLASSIFIED"]);
  const bound = await readServiceBound(ctx);
  assert.equal(bound.status, "known");
  assert.equal(bound.status === "known" && bound.clearances.length, 2);
});

test("a store that cannot answer the service clearance refuses messages (wait) and offers an empty room catalog", async () => {
  const store = new MemoryStore();
  store.getServiceClearance = () => Promise.reject(new Error("store down (test)"));
  const { ctx, room, hi } = setup(store);
  await onGroupchat(ctx, room, hi, secretMessage(hi.jid));
  assert.equal(ctx.sent.length, 0);
  assert.equal(ctx.refused[0]?.spec.condition, "internal-server-error");
  assert.equal(ctx.refused[0]?.spec.type, "wait");
  const bound = await readServiceBound(ctx);
  const catalog = roomCatalogElement(ctx, room, hi.clearance, ROOM, bound, undefined);
  assert.equal(catalog.getChildren("item").length, 0);
  assert.throws(
    () =>
      readSubmittedConfig(
        ctx,
        room,
        xml(
          "x",
          { xmlns: "jabber:x:data", type: "submit" },
          xml("field", { var: "sec-label#label" }, xml("value", {}, "UNCLASSIFIED")),
        ),
        clearance(ALL),
        bound,
      ),
    StanzaErrorException,
  );
});

test("room settings and the room catalog stay within the store's service clearance", async () => {
  const store = new MemoryStore();
  await store.setServiceClearance(DOMAIN, raw(clearance(["UNCLASSIFIED"])));
  const { ctx, room, hi } = setup(store);
  const bound = await readServiceBound(ctx);
  const submit = (name: string) =>
    readSubmittedConfig(
      ctx,
      room,
      xml(
        "x",
        { xmlns: "jabber:x:data", type: "submit" },
        xml("field", { var: "sec-label#label" }, xml("value", {}, name)),
      ),
      clearance(ALL),
      bound,
    );
  assert.equal(submit("UNCLASSIFIED").label?.label, U);
  assert.throws(() => submit("SECRET"), StanzaErrorException);
  const catalog = roomCatalogElement(ctx, room, hi.clearance, ROOM, bound, undefined);
  const selectors = catalog.getChildren("item").map((i) => i.attrs.selector);
  assert.deepEqual(selectors, ["UNCLASSIFIED"]);
});
