import { test } from "node:test";
import assert from "node:assert/strict";
import { createEntity } from "../src/entity.js";
import { silentLogger } from "../src/logger.js";
import { createParser } from "../src/xml.js";

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

test("a long id or body read in 64 KiB pieces costs a fraction of what the parser alone spent on it (issue 14)", () => {
  // ltx scanned the rest of each piece again from every character of a run that did not end in
  // it (parse-gate.ts): 0.1–0.3 s of the component's only thread for these two stanzas, 0.5–0.9 s
  // for one 140,000-`>` id as the server escapes it. Measured against the parser fed directly in
  // the same pieces (the old path), best of three, so that a busy machine slows both alike.
  const header =
    "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1'>";
  const data =
    header +
    `<message id='${"Q".repeat(250_000)}' to='room@c.test' from='e@x.test/r'><body>x</body></message>` +
    `<message to='room@c.test' from='e@x.test/r'><body>${"H".repeat(250_000)}</body></message>`;
  const pieces = (feed: (piece: string) => void) => {
    for (let i = 0; i < data.length; i += 65_536) feed(data.slice(i, i + 65_536));
  };
  const best = (run: (parser: ReturnType<typeof createParser>) => void) => {
    let min = Infinity;
    for (let r = 0; r < 3; r++) {
      const parser = createParser();
      let stanzas = 0;
      parser.on("element", () => stanzas++);
      const t0 = process.hrtime.bigint();
      run(parser);
      min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
      assert.equal(stanzas, 2);
    }
    return min;
  };
  const direct = best((parser) => pieces((piece) => parser.write(piece)));
  const entity = make();
  const gated = best((parser) => {
    entity.parser = parser as never;
    pieces((piece) => entity._onData(piece));
  });
  assert.ok(
    gated * 4 < direct,
    `through the entity ${gated.toFixed(1)} ms, parser alone ${direct.toFixed(1)} ms`,
  );
});
