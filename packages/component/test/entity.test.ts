import { test } from "node:test";
import assert from "node:assert/strict";
import { createEntity } from "../src/entity.js";
import { silentLogger } from "../src/logger.js";

const make = (errors: Error[] = []) =>
  createEntity({
    service: "xmpp://127.0.0.1:1",
    domain: "c.test",
    logger: silentLogger(),
    onError: (error) => errors.push(error),
  });

test("the socket decodes UTF-8 as a stream", () => {
  const socket = new (make().Socket)();
  assert.equal(socket.readableEncoding, "utf8");
  socket.destroy();
});

test("a parser that throws on data is a parse error of the stream (RFC 6120 §4.9.3.1), not an exception", () => {
  const entity = make();
  const emitted: unknown[] = [];
  entity.parser = {
    emit: (_event: string, error: unknown) => emitted.push(error) > 0,
    write: () => {
      throw new Error("Illegal XML character 0x1");
    },
  } as never;
  assert.doesNotThrow(() => entity._onData("<body>&#1;</body>"));
  assert.match(String(emitted[0]), /Illegal XML character/);
});

test("data after the parser was detached is dropped", () => {
  const entity = make();
  entity.parser = null;
  assert.doesNotThrow(() => entity._onData("</x>"));
});

test("an 'error' always has a listener: it reaches onError instead of throwing", () => {
  const errors: Error[] = [];
  const entity = make(errors);
  assert.doesNotThrow(() => entity.emit("error", new Error("ECONNRESET")));
  assert.equal(errors[0]?.message, "ECONNRESET");
});
