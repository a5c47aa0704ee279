import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_MAX_STANZA_BYTES,
  oversizePart,
  serialisedBytes,
  serialisedFits,
  textBytes,
  stanzaLimits,
  textFits,
} from "../src/stanza-limits.js";
import { parseElement, xml } from "../src/xml.js";

test("every bound derives from maxStanzaBytes (default 256 KiB)", () => {
  assert.deepEqual(stanzaLimits(), {
    maxStanzaBytes: 262_144,
    stanza: 131_072,
    depth: 64,
    id: 1024,
    resource: 1024,
    body: 65_536,
    subject: 16_384,
    status: 4096,
    reason: 4096,
  });
  assert.equal(stanzaLimits().maxStanzaBytes, DEFAULT_MAX_STANZA_BYTES);
  // Small limits keep floors generous enough for real clients' ids and nicks.
  assert.deepEqual(stanzaLimits(16_384), {
    maxStanzaBytes: 16_384,
    stanza: 8192,
    depth: 64,
    id: 512,
    resource: 512,
    body: 4096,
    subject: 1024,
    status: 1024,
    reason: 1024,
  });
  assert.throws(() => stanzaLimits(1000), RangeError);
  assert.throws(() => stanzaLimits(1.5e5 + 0.5), RangeError);
});

test("serialisedBytes counts UTF-8 bytes after escaping, and agrees with the serialiser", () => {
  assert.equal(serialisedBytes("abc"), 3);
  assert.equal(serialisedBytes("&<>\"'"), 5 + 4 + 4 + 6 + 6);
  assert.equal(serialisedBytes("é€😀"), 2 + 3 + 4);
  assert.equal(serialisedBytes("a\tb\nc\r"), 3 + 3 * 5);
  assert.equal(textBytes("&<>\"'\n"), 5 + 4 + 4 + 1 + 1 + 1);
  for (const text of ["plain", "a<b>&c \"q\" 'a'", "ü€😀 mixed > text"]) {
    const el = xml("m", {}, text).toString();
    assert.equal(Buffer.byteLength(el) - `<m></m>`.length, textBytes(text));
  }
  for (const text of ["plain", "a<b>&c", "ü€😀 mixed > text", ">".repeat(1000)]) {
    const attr = xml("m", { id: text }).toString();
    assert.ok(Buffer.byteLength(attr) - `<m id=""/>`.length <= serialisedBytes(text));
  }
  assert.equal(textFits(">".repeat(256), 1024), true);
  assert.equal(textFits(">".repeat(257), 1024), false);
});

test("serialisedFits measures UTF-8 bytes, deciding short strings by their length alone", () => {
  const limits = { maxStanzaBytes: 16_384 };
  assert.equal(serialisedFits(limits, "a".repeat(16_384)), true);
  assert.equal(serialisedFits(limits, "a".repeat(16_385)), false);
  assert.equal(serialisedFits(limits, "€".repeat(5461)), true);
  assert.equal(serialisedFits(limits, "€".repeat(5462)), false);
});

test("oversizePart names the first part over its bound", () => {
  const limits = stanzaLimits();
  const ok = parseElement(`<message id='abc' to='r@c/nick'><body>hello</body><subject>s</subject></message>`);
  assert.equal(oversizePart(limits, ok), undefined);
  const cases: [string, ReturnType<typeof oversizePart>][] = [
    [`<message id='${"&gt;".repeat(300)}'/>`, { part: "id", limit: 1024 }],
    [`<presence to='r@c/${"x".repeat(1100)}'/>`, { part: "resource", limit: 1024 }],
    [`<message><body>${"&lt;".repeat(20_000)}</body></message>`, { part: "body", limit: 65_536 }],
    [`<message><subject>${"a".repeat(20_000)}</subject></message>`, { part: "subject", limit: 16_384 }],
    [`<presence><status>${"a".repeat(5000)}</status></presence>`, { part: "status", limit: 4096 }],
    [
      `<message><x xmlns='http://jabber.org/protocol/muc#user'><invite to='a@b'><reason>${"a".repeat(5000)}</reason></invite></x></message>`,
      { part: "reason", limit: 4096 },
    ],
    [`<message><x xmlns='urn:x'>${"&amp;".repeat(30_000)}</x></message>`, { part: "stanza", limit: 131_072 }],
  ];
  for (const [text, expected] of cases)
    assert.deepEqual(oversizePart(limits, parseElement(text)), expected, text);
  // A <status/> under a message, a <body/> under a presence: only the whole stanza bounds them.
  assert.equal(
    oversizePart(limits, parseElement(`<presence><body>${"a".repeat(70_000)}</body></presence>`)),
    undefined,
  );
});

// Issue 14: a stanza nested thousands deep made every recursive walk throw RangeError (the
// oversize check itself, serialisation, label and hidden-content searches).
test("a stanza nested deeper than the depth bound is refused first, without recursing", () => {
  const limits = stanzaLimits();
  const nested = (depth: number) =>
    parseElement(`<message to='r@c'>${"<a>".repeat(depth - 1)}${"</a>".repeat(depth - 1)}</message>`);
  assert.equal(limits.depth, 64);
  assert.equal(oversizePart(limits, nested(64)), undefined);
  assert.deepEqual(oversizePart(limits, nested(65)), { part: "depth", limit: 64 });
  // Deep enough to exhaust the stack of a recursive walk: answered, not thrown.
  assert.deepEqual(oversizePart(limits, nested(200_000)), { part: "depth", limit: 64 });
  // Real stanzas: an archived carbon of a MUC invitation (7 levels) fits.
  const archived = parseElement(
    `<message><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><message><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'><reason>r</reason></invite></x></message></forwarded></result></message>`,
  );
  assert.equal(oversizePart(limits, archived), undefined);
});
