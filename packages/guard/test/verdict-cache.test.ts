// The verdict cache (verdict-cache.ts, docs/performance.md §4): a verdict marked cacheable is,
// applied as the modules apply it to another message with the same key, exactly what the guard
// decides for that message — delivered form and FLOT form — for every body text; anything that
// could carry labelled content, or any decision other than deliver, is never marked; a decision
// during which the epoch changed is not marked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isElement, parseElement, xml, type Element } from "@cordon/component";
import { buildSecurityLabelXml, PolicyRegistry } from "@cordon/policy";
import { decide } from "../src/decide.js";
import { verdictElement, type CheckRequest } from "../src/protocol.js";
import { cacheTemplate, CacheEpoch } from "../src/verdict-cache.js";
import { allClearedContext as context, label, SERVER } from "./decide-fixture.js";

const NS_LABELS = "urn:xmpp:sec-label:0";
const NS_GUARD = "urn:cordon:guard:0";
const SECRET = buildSecurityLabelXml(label("SECRET"));

const SESSIONS = [
  { resource: "aware", ip: undefined, labels: true },
  { resource: "unaware", ip: undefined, labels: false },
];

/** The verdict element as the guard sends it (guard-service.ts), for `compact`. */
async function answer(text: string, compact: 1 | 2, extra: Partial<CheckRequest> = {}) {
  const request: CheckRequest = { origin: "c2s", message: parseElement(text), sessions: SESSIONS, ...extra };
  const decision = await decide(await context(), SERVER, request);
  const element = verdictElement(decision.verdict, request.message, compact, {
    epoch: "e.0",
    template: (labels) => cacheTemplate(request, decision.verdict, labels, decision.flotMarking),
  });
  return { decision, element: parseElement(element.toString()) };
}

const children = (el: Element) =>
  xml(
    "x",
    {},
    ...el.children.map((c) => (typeof c === "string" ? c : parseElement(c.toString()))),
  ).toString();

/** A kept verdict applied to `message` as the modules do (apply_cached in Lua and Erlang). */
function applyCached(kept: Element, message: Element): { delivered: Element; flot: Element | undefined } {
  const labelEl = kept.attrs.label
    ? parseElement(kept.attrs.label)
    : kept.getChildren("securitylabel", NS_LABELS)[0]!;
  const kids = message.children.filter(
    (c) => !(isElement(c) && c.name === "securitylabel" && c.attrs.xmlns === NS_LABELS),
  );
  const delivered = xml(message.name, { ...message.attrs }, ...kids, labelEl);
  const prefix = kept.getChild("prefix", NS_GUARD)?.getText();
  if (prefix === undefined) return { delivered, flot: undefined };
  const flot = xml(
    message.name,
    { ...message.attrs },
    ...delivered.children.map((c) =>
      isElement(c) && c.name === "body" && c.attrs.xmlns === undefined
        ? xml("body", { ...c.attrs }, prefix + c.getText())
        : c,
    ),
  );
  return { delivered, flot };
}

const SHAPES = [
  (body: string) =>
    `<message from='alice@example.test/r' to='bob@example.test' id='a' type='chat'><body>${body}</body>${SECRET}</message>`,
  (body: string) =>
    `<message from='alice@example.test/r' to='bob@example.test' id='b' type='chat'><body>${body}</body></message>`,
  (body: string) =>
    `<message from='alice@example.test/r' to='bob@example.test' id='c' xml:lang='en' type='chat'><thread parent='p'>t</thread><body>${body}</body><body xml:lang='fr'>${body}</body><active xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>${SECRET}</message>`,
  () =>
    `<message from='alice@example.test/r' to='bob@example.test' id='d' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>${SECRET}</message>`,
];
const BODIES = [
  "first",
  "",
  "two\nlines",
  "&lt;b&gt;not markup&lt;/b&gt; &amp; ' \"",
  "SECRET\nalready marked",
  "ünïcødé ✓",
];

for (const compact of [1, 2] as const)
  for (const [i, shape] of SHAPES.entries())
    test(`compact='${compact}' shape ${i + 1}: a kept verdict applied to any body is exactly the guard's decision for it`, async () => {
      const first = await answer(shape("first"), compact);
      assert.equal(first.element.attrs.cache, "1", "marked cacheable");
      assert.equal(first.element.attrs.epoch, "e.0");
      for (const body of BODIES) {
        const text = shape(body);
        const fresh = await answer(text, compact);
        assert.equal(fresh.decision.verdict.action, "deliver");
        const v = fresh.decision.verdict as { message: Element; flot?: Element };
        const got = applyCached(first.element, parseElement(text));
        assert.equal(children(got.delivered), children(v.message), "the delivered form");
        assert.equal(
          got.flot ? children(got.flot) : undefined,
          v.flot ? children(v.flot) : undefined,
          "FLOT",
        );
      }
    });

const NOT_CACHEABLE: [string, string][] = [
  ["an out-of-band link", `<x xmlns='jabber:x:oob'><url>https://example.test/</url></x>`],
  ["a payload hiding a label", `<x xmlns='urn:example'>${buildSecurityLabelXml(label("UNCLASSIFIED"))}</x>`],
  [
    "an XHTML-IM body",
    `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>b</body></html>`,
  ],
  ["a subject", `<subject>s</subject>`],
  [
    "a chat state with an element inside",
    `<active xmlns='http://jabber.org/protocol/chatstates'><x xmlns='urn:example'/></active>`,
  ],
  ["an origin-id with another attribute", `<origin-id xmlns='urn:xmpp:sid:0' id='1' by='x'/>`],
  ["a second label", SECRET],
  [
    "a forwarded message",
    `<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>x</body></message></forwarded>`,
  ],
];

for (const [name, extra] of NOT_CACHEABLE)
  test(`a message with ${name} is never marked cacheable`, async () => {
    const text = `<message from='alice@example.test/r' to='bob@example.test' id='x' type='chat'><body>b</body>${SECRET}${extra}</message>`;
    for (const compact of [1, 2] as const) {
      const { element } = await answer(text, compact);
      assert.equal(element.attrs.cache, undefined);
      assert.equal(element.getChild("prefix", NS_GUARD), undefined);
    }
  });

test("a body with an element inside, an unknown message attribute, an error or headline... only the safe ones are cacheable", async () => {
  const base = (attrs: string, body = "<body>b</body>") =>
    `<message from='alice@example.test/r' to='bob@example.test' id='x' ${attrs}>${body}${SECRET}</message>`;
  assert.equal(
    (await answer(base("type='chat'", "<body>b<i xmlns='urn:example'/></body>"), 2)).element.attrs.cache,
    undefined,
  );
  assert.equal((await answer(base("type='chat' foo='1'"), 2)).element.attrs.cache, undefined);
  assert.equal((await answer(base("type='groupchat'"), 2)).element.attrs.cache, undefined);
  assert.equal((await answer(base("type='headline'"), 2)).element.attrs.cache, "1");
  assert.equal((await answer(base(""), 2)).element.attrs.cache, "1");
});

test("refusals, stored messages replayed, sent carbons and a recipient without sessions are never cached", async () => {
  const text = `<message from='alice@example.test/r' to='bob@example.test' id='x' type='chat'><body>b</body>${buildSecurityLabelXml(label("TOP SECRET"))}</message>`;
  const refused = await answer(
    text.replace("TOP SECRET", "SECRET").replace("<body>", "<body>").replace("bob@", "nobody@"),
    2,
  );
  // (nobody has no clearance: refused)
  assert.equal(refused.decision.verdict.action, "refuse");
  assert.equal(refused.element.attrs.cache, undefined);
  const ok = `<message from='alice@example.test/r' to='bob@example.test' id='x' type='chat'><body>b</body>${SECRET}</message>`;
  assert.equal((await answer(ok, 2, { offline: true })).element.attrs.cache, undefined);
  assert.equal((await answer(ok, 2, { sessions: [] })).element.attrs.cache, undefined);
  assert.equal(
    (await answer(ok, 2, { copies: [{ resource: "other", ip: undefined, labels: true }] })).element.attrs
      .cache,
    undefined,
  );
  assert.equal((await answer(ok, 2)).element.attrs.cache, "1");
});

test("a decision during which the epoch changed is not marked cacheable; each change is a new epoch", async () => {
  const epoch = new CacheEpoch();
  const seen: string[] = [];
  epoch.onChange((e) => seen.push(e));
  const start = epoch.current;
  const ok = `<message from='alice@example.test/r' to='bob@example.test' id='x' type='chat'><body>b</body>${SECRET}</message>`;
  const request: CheckRequest = { origin: "c2s", message: parseElement(ok), sessions: SESSIONS };
  const decision = await decide(await context(), SERVER, request);
  epoch.bump(); // a clearance notification while it was decided
  const element = verdictElement(decision.verdict, request.message, 2, {
    epoch: start,
    template: (labels) =>
      start === epoch.current
        ? cacheTemplate(request, decision.verdict, labels, decision.flotMarking)
        : undefined,
  });
  assert.equal(element.attrs.cache, undefined);
  assert.equal(element.attrs.epoch, start);
  assert.deepEqual(seen, [epoch.current]);
  assert.notEqual(epoch.current, start);
  assert.notEqual(new CacheEpoch().current, start, "each start of the guard is a new epoch");
});

test("a policy change bumps the guard's epoch (PolicyRegistry.onChange)", () => {
  const r = new PolicyRegistry();
  let changes = 0;
  const stop = r.onChange(() => void changes++);
  r.loadFileSync(new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname);
  r.replaceAll(r.policies());
  assert.equal(changes, 2);
  stop();
  r.replaceAll([]);
  assert.equal(changes, 2);
});
