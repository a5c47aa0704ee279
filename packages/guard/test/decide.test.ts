import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement, type Element } from "@cordon/component";
import {
  buildSecurityLabelXml,
  encodeBerClearance,
  makeClearance,
  makeLabel,
  PolicyRegistry,
} from "@cordon/policy";
import { ClearanceReader, Markings, StanzaLabels } from "@cordon/rules";
import { MemoryStore, type ClearanceLookup } from "@cordon/store";
import { decide, type DecideContext } from "../src/decide.js";
import type { CheckOrigin } from "../src/protocol.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const cls = (n: string) => policy.classificationByName.get(n)!;
const label = (n: string) => makeLabel(policy, cls(n), []);
const raw = (...names: string[]) => ({
  encoding: "ber" as const,
  data: Buffer.from(encodeBerClearance(makeClearance(policy, names.map(cls), []))).toString("base64"),
});
const SERVER = "example.test";

async function setup(store = new MemoryStore()) {
  await store.setUserClearance("alice@example.test", raw("UNCLASSIFIED", "SECRET"));
  await store.setUserClearance("carol@example.test", raw("UNCLASSIFIED"));
  await store.setPeerClearance("partner.test", "inbound", raw("UNCLASSIFIED"));
  const context: DecideContext = {
    labels: new StanzaLabels(registry),
    markings: new Markings(),
    clearances: new ClearanceReader({ registry, store, maxAgeMs: 0 }),
    accept: [policy.id],
    defaultLabel: label("UNCLASSIFIED"),
    served: [SERVER],
    maxDepth: 60,
  };
  const ask = (origin: CheckOrigin, text: string) =>
    decide(context, SERVER, { origin, message: parseElement(text) });
  return { store, context, ask };
}
const SECRET = buildSecurityLabelXml(label("SECRET"));

test("a label the recipient is cleared for is delivered, re-encoded with the policy's marking", async () => {
  const { ask } = await setup();
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='alice@example.test' id='1'><body>x</body>${SECRET}</message>`,
  );
  assert.equal(got.reason, "deliver");
  assert.equal(got.verdict.action, "deliver");
  const out = (got.verdict as { message: Element }).message;
  assert.equal(out.getChildren("securitylabel", "urn:xmpp:sec-label:0").length, 1);
  assert.equal(out.getChild("securitylabel")?.getChildText("displaymarking"), "SECRET");
  assert.equal(out.getChildText("body"), "x");
});

test("refusals carry nothing of the message; an over-long or unprintable id is left out", async () => {
  const { ask } = await setup();
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='carol@example.test' id='ok-1'><body>secret words</body>${SECRET}</message>`,
  );
  assert.equal(got.reason, "recipient-not-cleared");
  const error = (got.verdict as { error: Element }).error;
  assert.equal(error.attrs.id, "ok-1");
  assert.ok(!error.toString().includes("secret words"));
  assert.equal(error.getChild("securitylabel"), undefined);
  const long = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='carol@example.test' id='${"x".repeat(200)}'>${SECRET}</message>`,
  );
  assert.equal((long.verdict as { error: Element }).error.attrs.id, undefined);
});

test("a remote sender is judged on its domain's inbound peer clearance; origin and domain must agree", async () => {
  const { ask } = await setup();
  const remote = await ask(
    "s2s",
    `<message from='dave@partner.test/r' to='alice@example.test'>${SECRET}</message>`,
  );
  assert.equal(remote.reason, "sender-not-cleared");
  const plain = await ask(
    "s2s",
    `<message from='dave@partner.test/r' to='alice@example.test'><body>hi</body></message>`,
  );
  assert.equal(plain.reason, "deliver");
  // A client session cannot speak for another domain, a remote server not for ours, and the
  // recipient must be a user of the asking server.
  assert.equal(
    (await ask("c2s", `<message from='dave@partner.test/r' to='alice@example.test'/>`)).reason,
    "addressing",
  );
  assert.equal(
    (await ask("s2s", `<message from='carol@example.test/r' to='alice@example.test'/>`)).reason,
    "addressing",
  );
  assert.equal(
    (await ask("c2s", `<message from='carol@example.test/r' to='bob@elsewhere.test'/>`)).reason,
    "addressing",
  );
});

test("error messages are never answered: a labelled one is dropped, a refused one too", async () => {
  const { ask } = await setup();
  const labelled = await ask(
    "c2s",
    `<message type='error' from='alice@example.test/r' to='alice@example.test'>${SECRET}</message>`,
  );
  assert.deepEqual([labelled.verdict.action, labelled.reason], ["drop", "labelled-error"]);
  const refused = await ask(
    "c2s",
    `<message type='error' from='alice@example.test/r' to='mallory@example.test'/>`,
  );
  assert.deepEqual([refused.verdict.action, refused.reason], ["drop", "recipient-not-cleared"]);
});

test("a clearance that cannot be read refuses with a wait error (fail closed)", async () => {
  const store = new MemoryStore();
  const { ask } = await setup(store);
  store.getUserClearance = (): Promise<ClearanceLookup> =>
    Promise.resolve({ status: "unknown", reason: "store down" });
  const got = await ask(
    "c2s",
    `<message from='alice@example.test/r' to='carol@example.test'><body>hi</body></message>`,
  );
  assert.equal(got.reason, "sender-unknown");
  assert.equal((got.verdict as { error: Element }).error.getChild("error")?.attrs.type, "wait");
});
