// Clients for tests that must write what a library would not: raw text on a test client's
// stream, and a bare-bones client on its own socket (XEP-0198 resumption needs control of the
// connection: drop it without closing the stream, then resume on another).
import { connect, type Socket } from "node:net";
import type { TestClient } from "./client.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `data` as it is on the client's stream (a stanza the XML builder would not make). */
export function sendRaw(client: TestClient, data: string): Promise<void> {
  return (client.xmpp as unknown as { write(data: string): Promise<void> }).write(data);
}

/** A client on a raw socket: all it read is in `text`. */
export class RawClient {
  text = "";
  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (this.text += d));
    socket.on("error", () => undefined);
  }

  /** Connects to `port` on 127.0.0.1 from `localAddress` (where the server sees the client). */
  static async open(port: number, localAddress: string): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawClient(socket);
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** Resolves with the first match of `pattern` in what was read, waiting up to `ms`. */
  async until(pattern: RegExp, ms = 8000): Promise<RegExpMatchArray> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
      const m = this.text.match(pattern);
      if (m) return m;
    }
    throw new Error(`never read ${pattern}: ${this.text.slice(-400)}`);
  }

  /** Stream opened and authenticated (SASL PLAIN, RFC 6120 §6), stream restarted. */
  async login(domain: string, user: string, password: string): Promise<void> {
    const open = `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
    this.write(open);
    await this.until(/<\/stream:features>/);
    const plain = Buffer.from(`\0${user}\0${password}`).toString("base64");
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    await this.until(/<success/);
    this.text = "";
    this.write(open);
    await this.until(/<\/stream:features>/);
  }

  /** Bound, stream management enabled with resumption (XEP-0198 §5), available: the resumption id. */
  async bindResumable(resource: string): Promise<string> {
    this.write(
      `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    await this.until(/id=["']bind1["']/);
    this.write("<enable xmlns='urn:xmpp:sm:3' resume='true'/><presence/>");
    const [, previd] = await this.until(/<enabled[^>]*\bid=["']([^"']+)["']/);
    if (!previd) throw new Error("stream management enabled without an id");
    return previd;
  }

  /** Gone without closing its stream (a dropped connection): the server keeps the session for resumption. */
  drop(): void {
    this.socket.destroy();
  }

  close(): void {
    this.socket.destroy();
  }
}
