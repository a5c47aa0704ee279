// The runtime over a scripted XEP-0114 peer on loopback: deterministic byte-level cases (a
// character split across TCP reads, a dropped connection, a refused secret) that a real server
// cannot be made to produce on demand. The same behaviours run against real Prosody and ejabberd
// in test/e2e.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { createComponent, type CordonComponent } from "../src/component.js";
import { xml, type Element } from "../src/xml.js";
import { AuthenticationFailedError, DomainConflictError, MissingAddressError } from "../src/errors.js";

const SECRET = "s3cr\u00e9t";

interface Peer {
  server: Server;
  port: number;
  sockets: Socket[];
  received: string[];
  /** Resolves with the next authenticated socket. */
  nextSession(): Promise<Socket>;
  close(): Promise<void>;
}

/** `mode`: "ok", or the stream error condition (with `errorText` inside) that refuses every handshake. */
async function startPeer(mode = "ok", errorText = ""): Promise<Peer> {
  const sockets: Socket[] = [];
  const received: string[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let buffer = "";
    let authed = false;
    socket.setEncoding("utf8");
    socket.on("error", () => undefined);
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      if (!authed && buffer.includes("<stream:stream")) {
        buffer = buffer.slice(buffer.indexOf(">", buffer.indexOf("<stream:stream")) + 1);
        socket.write(
          `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='c.test' id='ID1'>`,
        );
      }
      const m = /<handshake>([0-9a-f]+)<\/handshake>/.exec(buffer);
      if (!authed && m) {
        buffer = buffer.slice(buffer.indexOf("</handshake>") + 12);
        const expected = createHash("sha1").update(`ID1${SECRET}`, "utf8").digest("hex");
        if (mode !== "ok" || m[1] !== expected) {
          const condition = mode === "ok" ? "not-authorized" : mode;
          socket.end(
            `<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'${errorText ? `>${errorText}</${condition}>` : "/>"}</stream:error></stream:stream>`,
          );
          return;
        }
        authed = true;
        socket.write("<handshake/>");
        waiting.shift()?.(socket);
        return;
      }
      if (authed) received.push(chunk);
      if (authed && chunk.includes("</stream:stream>")) socket.end("</stream:stream>");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    server,
    port,
    sockets,
    received,
    nextSession: () => new Promise((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function component(
  port: number,
  extra: Partial<Parameters<typeof createComponent>[0]> = {},
): CordonComponent {
  return createComponent({
    service: `xmpp://127.0.0.1:${port}`,
    domain: "c.test",
    secret: SECRET,
    reconnect: { initialMs: 20, maxMs: 100 },
    ...extra,
  });
}

test("a multibyte character split across TCP reads arrives intact", async () => {
  const peer = await startPeer();
  const c = component(peer.port);
  const session = peer.nextSession();
  await c.start();
  const socket = await session;
  const body = `${"\u{1F600}\u6F22\u5B57".repeat(3000)}end`;
  const got = new Promise<Element>((resolve) => c.onMessage(resolve));
  const bytes = Buffer.from(
    `<message from='a@b.test/r' to='c.test' type='chat'><body>${body}</body></message>`,
    "utf8",
  );
  // Split inside the first emoji's 4-byte sequence, and then in many odd-sized pieces.
  const firstEmoji = bytes.indexOf(Buffer.from("\u{1F600}", "utf8"));
  const cuts = [firstEmoji + 2];
  for (let at = firstEmoji + 2; at < bytes.length; at += 997) cuts.push(at);
  cuts.push(bytes.length);
  let from = 0;
  for (const cut of cuts) {
    socket.write(bytes.subarray(from, cut));
    from = cut;
    await new Promise((r) => setTimeout(r, 1));
  }
  const message = await got;
  assert.equal(message.getChildText("body"), body);
  await c.stop();
  await peer.close();
});

test("every outgoing stanza has from and to; one without to is refused, not sent", async () => {
  const peer = await startPeer();
  const c = component(peer.port);
  await c.start();
  await c.send(xml("message", { to: "a@b.test" }, xml("body", {}, "hi")));
  await assert.rejects(c.send(xml("message", {}, xml("body", {}, "lost"))), MissingAddressError);
  await c.stop();
  const all = peer.received.join("");
  assert.match(all, /<message to="a@b.test" from="c.test"><body>hi<\/body><\/message>/);
  assert.ok(!all.includes("lost"));
  await peer.close();
});

test("sendRaw refuses serialised stanzas without both from and to, before anything is written", async () => {
  const peer = await startPeer();
  const c = component(peer.port);
  await c.start();
  const bad = [
    `<message to="a@b.test"><body>lost1</body></message>`,
    `<message from="c.test"><body>lost2</body></message>`,
    `<message xfrom="c.test" to="a@b.test"><body>lost3</body></message>`,
    `<message from=c.test to="a@b.test"><body>lost4</body></message>`,
    `<messages from="c.test" to="a@b.test"><body>lost5</body></messages>`,
    `<message><body from="c.test" to="a@b.test">lost6</body></message>`,
    `<r from="c.test" to="a@b.test"/>`,
  ];
  for (const stanza of bad) await assert.rejects(c.sendRaw([stanza]), MissingAddressError, stanza);
  await c.sendRaw([
    `<message\tto='a@b.test'\nfrom='c.test'><body>ok1</body></message>`,
    `<iq from="c.test" type="get" id="1" to="b.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
  ]);
  await c.stop();
  const all = peer.received.join("");
  assert.match(all, /ok1/);
  assert.match(all, /<iq from="c.test"/);
  assert.doesNotMatch(all, /lost/);
  await peer.close();
});

test("a throwing handler does not kill the process; an IQ is answered internal-server-error", async () => {
  const peer = await startPeer();
  const c = component(peer.port);
  c.handleIq("urn:test:boom", {
    get: () => {
      throw new Error("handler bug");
    },
  });
  c.onMessage(() => {
    throw new Error("message handler bug");
  });
  c.onPresence(async () => {
    throw new Error("async presence handler bug");
  });
  const session = peer.nextSession();
  await c.start();
  const socket = await session;
  socket.write(
    `<message from='a@b.test/r' to='c.test'><body>x</body></message><presence from='a@b.test/r' to='c.test'/>`,
  );
  socket.write(
    `<iq type='get' id='q7' from='a@b.test/r' to='c.test'><boom xmlns='urn:test:boom'>payload-not-to-echo</boom></iq>`,
  );
  const deadline = Date.now() + 5000;
  while (!peer.received.join("").includes("q7") && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  const reply = peer.received.join("");
  assert.match(
    reply,
    /<iq type="error" id="q7" from="c.test" to="a@b.test\/r"><error type="cancel"><internal-server-error xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/error><\/iq>/,
  );
  assert.ok(!reply.includes("payload-not-to-echo"));
  assert.equal(c.status, "online");
  await c.stop();
  await peer.close();
});

test("reconnects with backoff after the connection drops, and sends queued stanzas", async () => {
  const peer = await startPeer();
  const c = component(peer.port);
  let session = peer.nextSession();
  await c.start();
  const first = await session;
  const offline = once(c as unknown as NodeJS.EventEmitter, "offline");
  session = peer.nextSession();
  first.destroy();
  await offline;
  const queued = c.send(xml("message", { to: "a@b.test" }, xml("body", {}, "after-reconnect")));
  await session;
  await queued;
  assert.ok(c.reconnects >= 1);
  assert.equal(c.status, "online");
  await c.stop();
  assert.match(peer.received.join(""), /after-reconnect/);
  await peer.close();
});

test("malformed XML from the server resets the stream; it never crashes the process", async () => {
  // ltx throws from inside the socket's 'data' listener on an undefined entity or an illegal
  // character reference, and data arriving after a parse error met a detached (null) parser.
  const peer = await startPeer();
  const c = component(peer.port);
  let session = peer.nextSession();
  await c.start();
  const inputs = [
    [`<message from='a@b.test/r' to='c.test'><body>&#1;</body></message>`],
    [`<message from='a@b.test/r' to='c.test'><body>&foo;</body></message>`],
    [`<message from='a@b.test/r' to='c.test'><body></x>`, `<message from='a@b.test/r' to='c.test'/>`],
  ];
  for (const chunks of inputs) {
    const socket = await session;
    session = peer.nextSession();
    for (const chunk of chunks) {
      socket.write(chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const socket = await session;
  const got = new Promise<Element>((resolve) => c.onMessage(resolve));
  socket.write(`<message from='a@b.test/r' to='c.test'><body>still here</body></message>`);
  assert.equal((await got).getChildText("body"), "still here");
  assert.match(peer.received.join(""), /<bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  assert.equal(c.status, "online");
  await c.stop();
  await peer.close();
});

test("a wrong secret is a fatal error naming the domain, not retried", async () => {
  const peer = await startPeer("not-authorized");
  const c = component(peer.port);
  const fatal = new Promise<Error>((resolve) => c.on("fatal", resolve));
  const err = await c.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof AuthenticationFailedError, String(err));
  assert.equal(err.code, "CORDON_COMPONENT_NOT_AUTHORIZED");
  assert.match(err.message, /c\.test/);
  assert.equal(await fatal, err);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(peer.sockets.length, 1, "no reconnection after not-authorized");
  assert.equal(c.status, "failed");
  await c.stop();
  await peer.close();
});

test("a duplicate connection (conflict) is fatal too", async () => {
  const peer = await startPeer("conflict");
  const c = component(peer.port);
  await assert.rejects(c.start(), DomainConflictError);
  await c.stop();
  await peer.close();
});

test("an unknown stream error condition is retried, even one named like an Object property", async () => {
  for (const condition of ["constructor", "toString", "internal-server-error"]) {
    const peer = await startPeer(condition);
    const c = component(peer.port);
    let outcome: unknown = "pending";
    c.start().then(
      () => (outcome = "online"),
      (error: unknown) => (outcome = error),
    );
    const deadline = Date.now() + 5000;
    while (c.reconnects < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(c.reconnects >= 2, `${condition}: retried`);
    assert.equal(outcome, "pending", `${condition}: not a fatal error`);
    await c.stop();
    await peer.close();
  }
});

test("stop flushes queued stanzas and closes the stream", async () => {
  const peer = await startPeer();
  const c = component(peer.port);
  await c.start();
  const sends = Array.from({ length: 200 }, (_, i) =>
    c.send(xml("message", { to: `u${i}@b.test` }, xml("body", {}, `n${i}`))),
  );
  await c.stop();
  await Promise.all(sends);
  const all = peer.received.join("");
  assert.match(all, /n199/);
  assert.match(all, /<\/stream:stream>/);
  assert.equal(c.status, "stopped");
  await peer.close();
});

test("concurrent bursts larger than the queue wait for room instead of failing or crashing", async () => {
  const peer = await startPeer();
  const c = component(peer.port, { queue: { limit: 5 } });
  const session = peer.nextSession();
  await c.start();
  const socket = await session;
  socket.pause(); // the server stops reading: the socket fills up, then the bounded queue
  const filler = "x".repeat(10_000);
  const burst = (n: number) =>
    Array.from(
      { length: 50 },
      (_, i) => `<message from="c.test" to="u${n}-${i}@b.test"><body>${filler}</body></message>`,
    );
  const sends = [c.sendRaw(burst(1)), c.sendRaw(burst(2)), c.sendRaw(burst(3))];
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(c.queueDepth <= 5, `queue depth ${c.queueDepth} stays within its limit`);
  socket.resume();
  await Promise.all(sends);
  const deadline = Date.now() + 5000;
  while ((peer.received.join("").match(/<message /g) ?? []).length < 150 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal((peer.received.join("").match(/<message /g) ?? []).length, 150);
  await c.stop();
  await peer.close();
});

test("while the server refuses connections, attempts follow the backoff instead of spinning", async () => {
  // A port nobody listens on: every attempt fails at once with ECONNREFUSED. The socket's late
  // 'close' of each failed attempt used to cut the next backoff sleep short (thousands of
  // attempts a second).
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const address = probe.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((r) => probe.close(() => r()));
  const c = component(port, { reconnect: { initialMs: 100, maxMs: 400 } });
  c.start().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 2000));
  const attempts = c.reconnects;
  await c.stop();
  // 2 s of delays of at least 10, 20, 40, 40... ms (a tenth of a ceiling of 100, 200, 400 ms):
  // at most about 50 attempts; the spin made tens of thousands.
  assert.ok(attempts >= 2, `${attempts} attempts: retried`);
  assert.ok(attempts <= 60, `${attempts} attempts in 2 s`);
});

test("see-other-host is retried on the configured service, never followed elsewhere, never a crash", async () => {
  // RFC 6120 §4.9.3.19: the library would connect to whatever host the server names and send it
  // our handshake, behind the reconnect loop; an empty or malformed host was an unhandled
  // rejection (the end of the process).
  const elsewhere = await startPeer();
  for (const host of [`127.0.0.1:${elsewhere.port}`, ""]) {
    const peer = await startPeer("see-other-host", host);
    const c = component(peer.port);
    c.start().catch(() => undefined);
    const deadline = Date.now() + 5000;
    while (c.reconnects < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(c.reconnects >= 2, `${host || "empty"}: retried`);
    assert.equal(c.status, "connecting");
    await c.stop();
    await peer.close();
  }
  assert.equal(elsewhere.sockets.length, 0, "no connection to the host the server named");
  await elsewhere.close();
});
