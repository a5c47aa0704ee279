// The harness's `starttls` option: the server offers STARTTLS (RFC 6120 §5.4) with a certificate
// for the domain that a client can verify, and SASL works over the new stream.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { startServer, serverKinds } from "../src/server.js";
import type { XmppServer } from "../src/types.js";

const DOMAIN = "tls.example.test";
const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";

/** Reads from the socket until `pattern` matches what arrived since the last call (or 10 s pass). */
function reader(socket: Socket | TLSSocket): (pattern: RegExp) => Promise<string> {
  let text = "";
  let wake: (() => void) | undefined;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    text += chunk;
    wake?.();
  });
  return async (pattern) => {
    const deadline = Date.now() + 10_000;
    while (!pattern.test(text)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}; got: ${text.slice(0, 500)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
    const got = text;
    text = "";
    return got;
  };
}

const header = `<?xml version='1.0'?><stream:stream to='${DOMAIN}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

const started: XmppServer[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

for (const kind of serverKinds()) {
  test(`[${kind}] starttls: STARTTLS offered, certificate verifies for the domain, PLAIN offered over TLS`, async () => {
    const server = await startServer(kind, { domain: DOMAIN, starttls: true });
    started.push(server);
    assert.ok(server.certificateFile, "the certificate's path is known");
    const plain = netConnect(server.c2sPort, server.host);
    await new Promise<void>((ok, fail) => plain.once("connect", ok).once("error", fail));
    const readPlain = reader(plain);
    plain.write(header);
    const features = await readPlain(/<\/stream:features>/);
    assert.match(features, new RegExp(`<starttls[^>]*${NS_TLS.replace(/[.:]/g, "\\$&")}`));
    plain.write(`<starttls xmlns='${NS_TLS}'/>`);
    assert.match(await readPlain(/<proceed/), /<proceed/);
    plain.removeAllListeners("data");
    // Verified against the harness's certificate and the domain name (not rejectUnauthorized: false).
    const secure = tlsConnect({
      socket: plain,
      servername: DOMAIN,
      ca: readFileSync(server.certificateFile),
    });
    await new Promise<void>((ok, fail) => secure.once("secureConnect", ok).once("error", fail));
    assert.equal(secure.authorized, true);
    const readSecure = reader(secure);
    secure.write(header);
    const secured = await readSecure(/<\/stream:features>/);
    assert.match(secured, /<mechanism>PLAIN<\/mechanism>/);
    assert.doesNotMatch(secured, /<starttls/);
    secure.destroy();
  });

  test(`[${kind}] without starttls the server offers no STARTTLS`, async () => {
    const server = await startServer(kind, { domain: DOMAIN });
    started.push(server);
    assert.equal(server.certificateFile, undefined);
    const plain = netConnect(server.c2sPort, server.host);
    await new Promise<void>((ok, fail) => plain.once("connect", ok).once("error", fail));
    const read = reader(plain);
    plain.write(header);
    assert.doesNotMatch(await read(/<\/stream:features>/), /<starttls/);
    plain.destroy();
  });
}
