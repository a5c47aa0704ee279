// The one-to-one reference rule's memory (message-references.ts): what a reference is judged
// against, and the bounds (found in review adv12g, e2e guard-attack12 G7).
import { test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import assert from "node:assert/strict";
import { createParser, parseElement } from "@cordon/component";
import { makeLabel, PolicyRegistry } from "@cordon/policy";
import {
  ConversationReferences,
  conversationKey,
  MAX_IDS_PER_CONVERSATION,
  MAX_REFERENCES,
  referencedIds,
} from "../src/message-references.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const label = (n: string) => makeLabel(policy, policy.classificationByName.get(n)!, []);
const names = (labels: readonly { classification: { name: string } }[]) =>
  labels.map((l) => l.classification.name).sort();
const msg = (id: string, payload = "") =>
  parseElement(`<message id='${id}'><body>x</body>${payload}</message>`);
const react = (id: string) =>
  msg("r", `<reactions xmlns='urn:xmpp:reactions:0' id='${id}'><reaction>x</reaction></reactions>`);
const KEY = conversationKey("alice@example.test", "bob@example.test");

test("the ids a payload names: not its labels, XEP-0359 ids or delays; too many: undefined", () => {
  const m = parseElement(
    "<message id='own'><origin-id xmlns='urn:xmpp:sid:0' id='o'/><stanza-id xmlns='urn:xmpp:sid:0' id='s' by='x'/>" +
      "<delay xmlns='urn:xmpp:delay' id='d'/><replace xmlns='urn:xmpp:message-correct:0' id='a'/>" +
      "<x xmlns='urn:example'><y id='b'/></x></message>",
  );
  assert.deepEqual(referencedIds(m)?.sort(), ["a", "b"]);
  const many = Array.from({ length: MAX_REFERENCES + 1 }, (_, i) => `<r xmlns='urn:x' id='i${i}'/>`).join("");
  assert.equal(referencedIds(msg("m", many)), undefined);
});

test("a conversation key is the same whichever of the two sends", () => {
  assert.equal(conversationKey("a@x", "b@x"), conversationKey("b@x", "a@x"));
});

test("a known id gives its label; an unknown one every label the conversation carried; an unknown conversation none", () => {
  const refs = new ConversationReferences();
  refs.delivered(KEY, msg("s1"), label("SECRET"));
  refs.delivered(KEY, msg("u1", "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"), label("UNCLASSIFIED"));
  const known = refs.referenced(KEY, react("u1"));
  assert.ok(known.ok && names(known.labels).join() === "UNCLASSIFIED");
  const byOrigin = refs.referenced(KEY, react("o1"));
  assert.ok(byOrigin.ok && names(byOrigin.labels).join() === "UNCLASSIFIED");
  const unknown = refs.referenced(KEY, react("never"));
  assert.ok(unknown.ok && names(unknown.labels).join() === "SECRET,UNCLASSIFIED");
  const other = refs.referenced(conversationKey("alice@example.test", "dan@example.test"), react("s1"));
  assert.ok(other.ok && other.labels.length === 0);
  assert.deepEqual(refs.referenced(KEY, msg("plain")), { ok: true, labels: [] });
  assert.deepEqual(
    refs.referenced(
      KEY,
      msg("m", Array.from({ length: 17 }, (_, i) => `<r xmlns='urn:x' id='i${i}'/>`).join("")),
    ),
    {
      ok: false,
      reason: "too-many-references",
    },
  );
});

test("an id sent again with a lower label keeps the higher one", () => {
  const refs = new ConversationReferences();
  refs.delivered(KEY, msg("same"), label("SECRET"));
  refs.delivered(KEY, msg("same"), label("UNCLASSIFIED"));
  const r = refs.referenced(KEY, react("same"));
  assert.ok(r.ok && names(r.labels).join() === "SECRET,UNCLASSIFIED");
});

test("an id forgotten past the per-conversation bound is judged as unknown (its label stays)", () => {
  const refs = new ConversationReferences();
  refs.delivered(KEY, msg("old"), label("SECRET"));
  for (let i = 0; i < MAX_IDS_PER_CONVERSATION; i++) refs.delivered(KEY, msg(`n${i}`), label("UNCLASSIFIED"));
  const r = refs.referenced(KEY, react("old"));
  assert.ok(r.ok && names(r.labels).join() === "SECRET,UNCLASSIFIED");
});

test("bounded in bytes: the least recent conversations go; clear() forgets everything", () => {
  const refs = new ConversationReferences(64 * 1024);
  for (let c = 0; c < 200; c++)
    for (let i = 0; i < 20; i++)
      refs.delivered(conversationKey(`u${c}@x`, "v@x"), msg(`m${i}-${"z".repeat(100)}`), label("SECRET"));
  assert.ok(refs.size <= 64 * 1024, `held ${refs.size} bytes`);
  const recent = refs.referenced(conversationKey("u199@x", "v@x"), react("nope"));
  assert.ok(recent.ok && recent.labels.length === 1);
  // A forgotten conversation's labels stay behind: a reference into it is judged against them.
  const gone = refs.referenced(conversationKey("u0@x", "v@x"), react("nope"));
  assert.ok(gone.ok && names(gone.labels).join() === "SECRET");
  refs.clear();
  assert.equal(refs.size, 0);
  const after = refs.referenced(conversationKey("u0@x", "v@x"), react("nope"));
  assert.ok(after.ok && after.labels.length === 0);
});

// Review keep15: the ids a conversation remembers are read off the message — attribute values, and
// so V8 views of the text the parser read (a substring of 13 characters or more keeps its parent).
// Kept as they came, each remembered id kept its message's whole socket read alive behind the few
// bytes the index's bound counts. What the index keeps is a copy of its own.
test("remembered ids are copies of their own, not views of the message's text", () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const references = new ConversationReferences();
  const deliver = (i: number): void => {
    const parser = createParser();
    parser.on("start", () => undefined);
    parser.on("element", (message) => references.delivered(KEY, message, label("SECRET")));
    parser.write(
      `<stream><message id='the message id number ${i}'><origin-id xmlns='urn:xmpp:sid:0' id='the origin id number ${i}'/>` +
        `<body>${"x".repeat(200_000)}</body></message>`,
    );
  };
  deliver(-1);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) deliver(i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  const found = references.referenced(KEY, react("the origin id number 7"));
  assert.ok(found.ok && names(found.labels).join() === "SECRET");
  assert.ok(grown < 10_000_000, `${(grown / 1e6).toFixed(1)} MB kept for ${references.size} bytes counted`);
});
