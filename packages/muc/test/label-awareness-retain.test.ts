// Review keep15: the answers of clients' disco#info are kept by XEP-0115 caps `node#ver` — the
// presence's attribute values, V8 views of the text the parser read (a substring of 13 characters
// or more keeps its parent). Kept as it came, each client version kept the whole socket read of
// the presence that announced it alive. The key kept is a copy of its own.
import { test } from "node:test";
import { createHash } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, parseElement, type CordonComponent, type Element } from "@cordon/component";
import { capsVerificationString } from "../src/service/caps-verification.js";
import { LabelAwareness } from "../src/service/label-awareness.js";

const answer = (i: number): Element =>
  parseElement(
    `<iq type='result'><query xmlns='http://jabber.org/protocol/disco#info'>` +
      `<identity category='client' name='Client ${i}' type='pc'/><feature var='urn:xmpp:sec-label:0'/></query></iq>`,
  );
const verOf = (i: number): string =>
  createHash("sha1")
    .update(capsVerificationString(answer(i).getChild("query")!))
    .digest("base64");

test("client versions kept by caps do not keep their presences' text alive", async () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  let asked = 0;
  let next = answer(0);
  const component = {
    request: () => {
      asked++;
      return Promise.resolve(next);
    },
  } as unknown as CordonComponent;
  const awareness = new LabelAwareness(component, 100);
  const join = async (i: number): Promise<boolean> => {
    const parser = createParser();
    let presence: Element | undefined;
    parser.on("start", () => undefined);
    parser.on("element", (el) => {
      presence = el;
    });
    parser.write(
      `<stream><presence><status>${"x".repeat(200_000)}</status>` +
        `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://client.example/caps' ver='${verOf(i)}'/></presence>`,
    );
    next = answer(i);
    return awareness.discover("user@example.test/desk", "room@rooms.example.test/nick", presence!);
  };
  assert.equal(await join(-1), true);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) assert.equal(await join(i), true);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(asked, 201);
  assert.equal(await join(7), true);
  assert.equal(asked, 201, "a known version is not asked again");
  assert.ok(grown < 10_000_000, `${(grown / 1e6).toFixed(1)} MB kept for 200 client versions`);
});
