// A web client over XEP-0206 BOSH (mod_bosh on Prosody or ejabberd) for the e2e tests: it logs in, polls, and
// keeps every byte it read. Moved here from guard-cache-attack4 (also used by guard-lifecycle-attack).
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A web client over XEP-0206 BOSH (mod_bosh on either server), from `localAddress`: all it read. */
export class BoshClient {
  text = "";
  private rid = Math.floor(Math.random() * 1e9);
  private sid = "";
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  constructor(
    private readonly port: number,
    private readonly localAddress: string,
    private readonly domain: string,
  ) {}
  private post(body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: this.port,
          path: "/http-bind",
          method: "POST",
          localAddress: this.localAddress,
          headers: { "content-type": "text/xml; charset=utf-8" },
        },
        (res) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (data += d));
          res.on("end", () => resolve(data));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
  /** One request in turn (RIDs in order, XEP-0124 §14). */
  private send(inner: string, attrs = ""): Promise<string> {
    const next = this.chain.then(async () => {
      const rid = ++this.rid;
      const out = await this.post(
        `<body rid='${rid}' sid='${this.sid}' xmlns='http://jabber.org/protocol/httpbind'${attrs}>${inner}</body>`,
      );
      this.text += out;
      return out;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
  async until(pattern: RegExp, ms = 8000): Promise<RegExpMatchArray> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
      const m = this.text.match(pattern);
      if (m) return m;
    }
    throw new Error(`never read ${pattern}: ${this.text.slice(-400)}`);
  }
  async login(user: string, password: string, resource: string): Promise<void> {
    const first = await this.post(
      `<body rid='${++this.rid}' to='${this.domain}' xml:lang='en' wait='1' hold='1' ver='1.6' xmpp:version='1.0' ` +
        `xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh'/>`,
    );
    this.sid = /\bsid=["']([^"']+)["']/.exec(first)?.[1] ?? "";
    assert.ok(this.sid, `a BOSH session: ${first}`);
    this.text = first;
    if (!/mechanisms/.test(first)) await this.send("");
    const plain = Buffer.from(`\0${user}\0${password}`).toString("base64");
    await this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    await this.until(/<success/);
    await this.send("", ` to='${this.domain}' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'`);
    await this.send(
      `<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    await this.until(/id=["']bind1["']/);
    await this.send("<presence xmlns='jabber:client'/>");
    void this.poll();
    await sleep(300);
  }
  write(stanza: string): void {
    void this.send(stanza).catch(() => undefined);
  }
  private async poll(): Promise<void> {
    while (!this.closed) await this.send("").catch(() => sleep(100));
  }
  message(id: string): string | undefined {
    return new RegExp(`<message\\b[^>]*\\bid=["']${id}["'][\\s\\S]*?</message>`).exec(this.text)?.[0];
  }
  async waitMessage(id: string, ms = 8000): Promise<string> {
    return (await this.until(new RegExp(`<message\\b[^>]*\\bid=["']${id}["'][\\s\\S]*?</message>`), ms))[0];
  }
  close(): void {
    this.closed = true;
    void this.send("", " type='terminate'").catch(() => undefined);
  }
}
