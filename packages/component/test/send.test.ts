import { test } from "node:test";
import assert from "node:assert/strict";
import { createSender } from "../src/send.js";
import { createOutgoingQueue, type QueueSink } from "../src/outgoing-queue.js";
import { parseElement, xml } from "../src/xml.js";
import { MissingAddressError, StanzaTooLargeError } from "../src/errors.js";
import { silentLogger } from "../src/logger.js";

function sender(limit = 262_144) {
  const queue = createOutgoingQueue({ domain: "c.test" });
  const written: string[] = [];
  const sink: QueueSink = {
    write: (data, callback) => {
      written.push(data);
      callback();
      return true;
    },
    once: () => undefined,
    removeListener: () => undefined,
  };
  queue.attach(sink);
  const queued: number[] = [];
  const oversize: number[] = [];
  const s = createSender({
    domain: "c.test",
    queue,
    onQueued: (n) => queued.push(n),
    limits: { maxStanzaBytes: limit },
    onOversize: () => oversize.push(1),
    logger: silentLogger(),
  });
  return { s, written, queued, oversize };
}

test("send fills in from, refuses a stanza without to, and counts what it queued", async () => {
  const { s, written, queued } = sender();
  await s.send(xml("message", { to: "a@b.test" }, xml("body", {}, "hi")));
  await assert.rejects(s.send(xml("message", {}, xml("body", {}, "lost"))), MissingAddressError);
  assert.deepEqual(written, [`<message to="a@b.test" from="c.test"><body>hi</body></message>`]);
  assert.deepEqual(queued, [1]);
});

test("sendAll and sendRaw write everything, and refuse unaddressed stanzas", async () => {
  const { s, written, queued } = sender();
  await s.sendAll([
    xml("presence", { to: "a@b.test" }),
    xml("presence", { to: "d@b.test", from: "r@c.test" }),
  ]);
  await s.sendRaw([`<message from="c.test" to="a@b.test"/>`]);
  await assert.rejects(
    s.sendRaw([`<message to="a@b.test"><body>lost</body></message>`]),
    MissingAddressError,
  );
  await assert.rejects(s.sendAll([xml("presence", {})]), MissingAddressError);
  assert.equal(
    written.join(""),
    `<presence to="a@b.test" from="c.test"/><presence to="d@b.test" from="r@c.test"/><message from="c.test" to="a@b.test"/>`,
  );
  assert.deepEqual(queued, [2, 1]);
});

test("replyError answers with only an <error/>, never an error and never without a sender", async () => {
  const { s, written } = sender();
  const request = parseElement(
    `<message from='a@b.test/r' to='c.test' id='m1'><body>secret</body></message>`,
  );
  await s.replyError(request, { condition: "forbidden" });
  await s.replyError(parseElement(`<message type='error' from='a@b.test/r' to='c.test'/>`), {
    condition: "forbidden",
  });
  await s.replyError(parseElement(`<message to='c.test'/>`), { condition: "forbidden" });
  assert.equal(written.length, 1);
  assert.equal(
    written[0],
    `<message type="error" id="m1" from="c.test" to="a@b.test/r"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
  );
});

// Issue 14: a stanza over maxStanzaBytes would close the stream: it is never written.
test("a stanza over maxStanzaBytes is never written: counted, and its caller gets StanzaTooLargeError", async () => {
  const { s, written, oversize } = sender(16_384);
  await assert.rejects(
    s.send(xml("message", { to: "a@b.test", id: "&".repeat(4000) }, xml("body", {}, "x"))),
    StanzaTooLargeError,
  );
  // Multibyte: 6,000 characters of 3 bytes are 18,000 bytes.
  await assert.rejects(
    s.send(xml("message", { to: "a@b.test" }, xml("body", {}, "€".repeat(6000)))),
    StanzaTooLargeError,
  );
  await s.send(xml("message", { to: "a@b.test" }, xml("body", {}, "€".repeat(5000))));
  assert.equal(written.length, 1);
  assert.equal(oversize.length, 2);
});

test("in a batch, the stanza over the bound is left out, the others written, then the call fails", async () => {
  const { s, written, oversize } = sender(16_384);
  await assert.rejects(
    s.sendRaw([
      `<message from="c.test" to="a@b.test"/>`,
      `<message from="c.test" to="a@b.test">${"x".repeat(20_000)}</message>`,
      `<message from="c.test" to="d@b.test"/>`,
    ]),
    StanzaTooLargeError,
  );
  await assert.rejects(
    s.sendAll([
      xml("presence", { to: "a@b.test", id: "<".repeat(5000) }),
      xml("presence", { to: "e@b.test" }),
    ]),
    StanzaTooLargeError,
  );
  assert.equal(
    written.join(""),
    `<message from="c.test" to="a@b.test"/><message from="c.test" to="d@b.test"/><presence to="e@b.test" from="c.test"/>`,
  );
  assert.equal(oversize.length, 2);
});

test("sendRaw: an unaddressed stanza in a batch stops it there; those before it are written, none after", async () => {
  const { s, written, queued } = sender();
  await assert.rejects(
    s.sendRaw([
      `<message from="c.test" to="a@b.test"/>`,
      `<message from="c.test" to=""/>`,
      `<message from="c.test" to="z@b.test"/>`,
    ]),
    MissingAddressError,
  );
  assert.equal(written.join(""), `<message from="c.test" to="a@b.test"/>`);
  assert.deepEqual(queued, [1]);
});

test("sendCopies: each copy is head + its escaped recipient + its payload, checked on the parts as sendRaw checks", async () => {
  const { s, written, queued } = sender();
  const shared = `<body>hi</body></message>`;
  await s.sendCopies({
    head: `<message from="r@c.test/n" type="groupchat"`,
    to: ["a@b.test/r", `q"<&'@b.test/x`],
    payload: [shared, shared],
  });
  assert.equal(
    written.join(""),
    `<message from="r@c.test/n" type="groupchat" to="a@b.test/r"><body>hi</body></message>` +
      `<message from="r@c.test/n" type="groupchat" to="q&quot;&lt;&amp;&apos;@b.test/x"><body>hi</body></message>`,
  );
  assert.deepEqual(queued, [2]);
  // The escaped recipient reads back as it was.
  assert.equal(
    parseElement(written.join("").slice(written.join("").lastIndexOf("<message"))).attrs.to,
    `q"<&'@b.test/x`,
  );
});

test("sendCopies refuses a head without from, one with its own to or closed, and stops at an empty recipient", async () => {
  const { s, written } = sender();
  const copies = (head: string) => ({ head, to: ["a@b.test"], payload: ["</message>"] });
  await assert.rejects(s.sendCopies(copies(`<message type="groupchat"`)), MissingAddressError);
  await assert.rejects(s.sendCopies(copies(`<message from="c.test" to="x@b.test"`)), MissingAddressError);
  await assert.rejects(s.sendCopies(copies(`<message from="c.test">`)), MissingAddressError);
  await assert.rejects(s.sendCopies(copies(`<foo from="c.test"`)), MissingAddressError);
  assert.deepEqual(written, []);
  await assert.rejects(
    s.sendCopies({
      head: `<message from="c.test"`,
      to: ["a@b.test", "", "z@b.test"],
      payload: ["</message>", "</message>", "</message>"],
    }),
    MissingAddressError,
  );
  assert.equal(written.join(""), `<message from="c.test" to="a@b.test"></message>`);
});

test("sendCopies: a copy over the bound is left out, the others written, then the call fails", async () => {
  const { s, written, oversize } = sender(200);
  await assert.rejects(
    s.sendCopies({
      head: `<message from="c.test"`,
      to: ["a@b.test", "b@b.test"],
      payload: [`<body>${"x".repeat(300)}</body></message>`, "</message>"],
    }),
    StanzaTooLargeError,
  );
  assert.equal(written.join(""), `<message from="c.test" to="b@b.test"></message>`);
  assert.equal(oversize.length, 1);
});
