import { test } from "node:test";
import assert from "node:assert/strict";
import { createSender } from "../src/send.js";
import { createOutgoingQueue, type QueueSink } from "../src/outgoing-queue.js";
import { parseElement, xml } from "../src/xml.js";
import { MissingAddressError } from "../src/errors.js";

function sender() {
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
  return { s: createSender({ domain: "c.test", queue, onQueued: (n) => queued.push(n) }), written, queued };
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
