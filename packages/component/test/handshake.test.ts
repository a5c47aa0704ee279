import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { createHash } from "node:crypto";
import { handshakeDigest, installHandshake } from "../src/handshake.js";
import { xml } from "../src/xml.js";

test("the digest is hex(SHA-1(streamId + secret)) over UTF-8 (XEP-0114 §3)", () => {
  const expected = createHash("sha1").update(Buffer.from("ID1s3cr\u00e9t", "utf8")).digest("hex");
  assert.equal(handshakeDigest("ID1", "s3cr\u00e9t"), expected);
  assert.notEqual(
    handshakeDigest("ID1", "s3cr\u00e9t"),
    createHash("sha1").update("ID1s3cr\u00e9t", "latin1").digest("hex"),
  );
});

function fakeEntity() {
  const written: string[] = [];
  const calls: string[] = [];
  const entity = Object.assign(new EventEmitter(), {
    write: (data: string) => {
      written.push(data);
      return Promise.resolve();
    },
    _jid: (id: string) => calls.push(`jid ${id}`),
    _status: (status: string) => calls.push(`status ${status}`),
  });
  // EventEmitter's listener type (any[]) is wider than the entity's (never[]): the fake is an entity.
  return { entity: entity as typeof entity & Parameters<typeof installHandshake>[0], written, calls };
}

test("answers the stream header with the handshake and goes online on the server's <handshake/>", async () => {
  const { entity, written, calls } = fakeEntity();
  installHandshake(entity, "c.test", "pw");
  entity.emit("element", xml("handshake"));
  assert.deepEqual(calls, [], "a handshake before our own is ignored");
  entity.emit("open", xml("stream:stream", { id: "abc" }));
  await Promise.resolve();
  assert.deepEqual(written, [`<handshake>${handshakeDigest("abc", "pw")}</handshake>`]);
  entity.emit("element", xml("handshake"));
  assert.deepEqual(calls, ["jid c.test", "status online"]);
  entity.emit("element", xml("handshake"));
  assert.equal(calls.length, 2, "only the first element after our handshake counts");
});

test("a stream error instead of the handshake, or a closed socket, never brings the entity online", () => {
  const { entity, calls } = fakeEntity();
  installHandshake(entity, "c.test", "pw");
  entity.emit("open", xml("stream:stream", { id: "1" }));
  entity.emit("element", xml("stream:error", {}, xml("not-authorized")));
  entity.emit("element", xml("handshake"));
  entity.emit("open", xml("stream:stream", { id: "2" }));
  entity.emit("disconnect");
  entity.emit("element", xml("handshake"));
  assert.deepEqual(calls, []);
});

test("a failed handshake write is reported as the entity's error", async () => {
  const { entity } = fakeEntity();
  entity.write = () => Promise.reject(new Error("EPIPE"));
  installHandshake(entity, "c.test", "pw");
  const error = new Promise<Error>((resolve) => entity.once("error", resolve));
  entity.emit("open", xml("stream:stream", { id: "1" }));
  assert.equal((await error).message, "EPIPE");
});
