// A client on a raw socket for the guard's attack tests: every byte the server wrote, read as text
// (what a message looks like on the wire, not as a client library re-serialises it).
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { capsVer, NS_CAPS, NS_DISCO_INFO, NS_SEC_LABEL } from "./caps.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client on a raw socket: every byte it read, and its XEP-0115 caps answered as told. */
export class RawClient {
  text = "";
  labels = false;
  /** ejabberd: caps are asked once per verification string on the server (XEP-0115 §6.2). */
  onceAsked = false;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.text += d;
      this.answerDisco();
    });
    socket.on("error", () => undefined);
  }
  static async open(port: number, localAddress: string): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawClient(socket);
  }
  private answered = 0;
  /** XEP-0030: answers each disco#info the server asks (once each), with or without labels. */
  private answerDisco(): void {
    const asks = [...this.text.matchAll(/<iq\b[^>]*>\s*<query[^>]*disco#info[^>]*\/?>/g)];
    for (const [tag] of asks.slice(this.answered)) {
      this.answered++;
      const id = /\bid=["']([^"']+)["']/.exec(tag)?.[1] ?? "";
      const from = /\bfrom=["']([^"']+)["']/.exec(tag)?.[1] ?? "";
      const node = /<query[^>]*\bnode=["']([^"']+)["']/.exec(tag)?.[1];
      const features = [NS_DISCO_INFO, NS_CAPS, ...(this.labels ? [NS_SEC_LABEL] : [])];
      this.write(
        `<iq type='result' id='${id}' to='${from}'><query xmlns='${NS_DISCO_INFO}'${node ? ` node='${node}'` : ""}>` +
          `<identity category='client' type='pc' name='Cordon test'/>` +
          features.map((f) => `<feature var='${f}'/>`).join("") +
          `</query></iq>`,
      );
    }
  }
  write(data: string): void {
    this.socket.write(data);
  }
  async until(pattern: RegExp, ms = 8000): Promise<RegExpMatchArray> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
      const m = this.text.match(pattern);
      if (m) return m;
    }
    throw new Error(`never read ${pattern}: ${this.text.slice(-400)}`);
  }
  async login(domain: string, user: string, password: string, resource: string): Promise<void> {
    const open = `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
    this.write(open);
    await this.until(/<\/stream:features>/);
    const plain = Buffer.from(`\0${user}\0${password}`).toString("base64");
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    await this.until(/<success/);
    this.text = "";
    this.answered = 0;
    this.write(open);
    await this.until(/<\/stream:features>/);
    this.write(
      `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    await this.until(/id=["']bind1["']/);
  }
  /** Available, announcing caps with (or without) XEP-0258 labels; waits for the server to ask. */
  async announce(labels: boolean): Promise<void> {
    this.labels = labels;
    const asked = this.answered;
    const ver = capsVer([NS_DISCO_INFO, NS_CAPS, ...(labels ? [NS_SEC_LABEL] : [])]);
    this.write(
      `<presence><c xmlns='${NS_CAPS}' hash='sha-1' node='urn:cordon:test-client' ver='${ver}'/></presence>`,
    );
    // (Prosody's module asks each session; ejabberd asks once per verification string, server-wide.)
    if (!RawClient.known.has(ver)) {
      for (const end = Date.now() + 8000; Date.now() < end && this.answered === asked;) await sleep(20);
      assert.ok(this.answered > asked, "the server asked for caps");
    }
    if (this.onceAsked) RawClient.known.add(ver);
    await sleep(300);
  }
  static readonly known = new Set<string>();

  /** The message with this id as read (the whole element), or undefined. */
  message(id: string): string | undefined {
    return new RegExp(`<message\\b[^>]*\\bid=["']${id}["'][\\s\\S]*?</message>`).exec(this.text)?.[0];
  }
  async waitMessage(id: string, ms = 8000): Promise<string> {
    return (await this.until(new RegExp(`<message\\b[^>]*\\bid=["']${id}["'][\\s\\S]*?</message>`), ms))[0];
  }
  close(): void {
    this.socket.end("</stream:stream>");
  }
}
