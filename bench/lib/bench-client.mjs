// The benches' XMPP client: RFC 6120 over a plain socket (optionally STARTTLS, §5), SASL PLAIN
// (§6), resource binding (§7), reading the stream with StanzaSplitter (no XML parser in the
// bench's process, which would compete with the server for the machine's 2 cores). It answers
// XEP-0030 disco#info with its features (so a component can tell label-aware clients, XEP-0258
// §2) and refuses any other request. A bench subclasses it to count its own messages
// (`intercept`) or watch presences (`observe`) without building a stanza object for each.
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { StringDecoder } from "node:string_decoder";
import { Buffer } from "node:buffer";
import { setTimeout, clearTimeout } from "node:timers";
import { StanzaSplitter } from "./stanza-splitter.mjs";

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_MUC = "http://jabber.org/protocol/muc";
const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";

/** Escapes an attribute value (XML 1.0 §2.3). */
export const escAttr = (s) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");

/** The start tag's attributes (values unescaped for the few entities servers emit). */
export function startTagAttrs(text) {
  const tag = text.slice(0, text.indexOf(">"));
  const attrs = {};
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs[m[1]] = (m[2] ?? m[3])
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  }
  return attrs;
}

export class BenchClient {
  /**
   * @param {{ port: number, domain: string, user: string, password?: string, resource?: string,
   *   tls?: boolean, features?: string[], presence?: string, recent?: number, waitMs?: number }} o
   *   `presence`: what the client's presences carry (e.g. XEP-0115 caps); `recent`: how many
   *   stanzas nobody waited for are kept for a later waitFor (0: none).
   */
  constructor(o) {
    this.port = o.port;
    this.domain = o.domain;
    this.user = o.user;
    this.password = o.password ?? `pw-${o.user}`;
    this.resource = o.resource ?? "bench";
    this.tls = o.tls ?? false;
    this.features = o.features ?? [NS_DISCO_INFO, NS_MUC];
    this.presence = o.presence ?? "";
    this.keep = o.recent ?? 0;
    this.waitMs = o.waitMs ?? 30_000;
    this.splitter = new StanzaSplitter((text) => this.element(text));
    this.waiters = new Set();
    this.recent = [];
    this.jid = undefined;
  }

  connect() {
    return new Promise((ok, fail) => {
      const socket = netConnect(this.port, "127.0.0.1");
      this.socket = socket;
      socket.setNoDelay(true);
      this.listen(socket);
      socket.on("error", fail);
      socket.on("close", () => {
        for (const w of this.waiters) w.reject(new Error(`${this.user}: connection closed`));
        this.waiters.clear();
      });
      socket.on("connect", () => this.login().then(ok, fail));
    });
  }

  /** Reads the stream from `socket` (plain TCP, later the TLS layer over it) as UTF-8 text. */
  listen(socket) {
    const decoder = new StringDecoder("utf8");
    socket.on("data", (chunk) => this.splitter.feed(decoder.write(chunk)));
  }

  /** RFC 6120 §5.4: STARTTLS, then a new stream over TLS. Resolves with the new stream's features. */
  async startTls(features) {
    if (!features.text.includes(NS_TLS)) throw new Error(`${this.user}: the server offers no STARTTLS`);
    const proceed = this.waitFor((s) => s.name === "proceed" || s.name === "failure");
    this.write(`<starttls xmlns='${NS_TLS}'/>`);
    if ((await proceed).name !== "proceed") throw new Error(`${this.user}: STARTTLS refused`);
    const plain = this.socket;
    plain.removeAllListeners("data");
    this.splitter.reset();
    // The server's certificate is the harness's own self-signed one, made for this run.
    const secure = tlsConnect({ socket: plain, servername: this.domain, rejectUnauthorized: false });
    await new Promise((ok, fail) => {
      secure.once("secureConnect", ok);
      secure.once("error", fail);
    });
    secure.on("error", () => undefined); // the "close" handler on the TCP socket reports it
    this.socket = secure;
    this.listen(secure);
    const next = this.waitFor((s) => s.name === "stream:features");
    this.header();
    return next;
  }

  header() {
    this.write(
      `<?xml version='1.0'?><stream:stream to='${this.domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
    );
  }

  async login() {
    let features = this.waitFor((s) => s.name === "stream:features");
    this.header();
    if (this.tls) features = this.startTls(await features);
    if (!(await features).text.includes("PLAIN")) throw new Error(`${this.user}: the server offers no PLAIN`);
    const result = this.waitFor((s) => s.name === "success" || s.name === "failure");
    this.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${this.user}\0${this.password}`).toString("base64")}</auth>`,
    );
    if ((await result).name !== "success") throw new Error(`${this.user}: authentication failed`);
    features = this.waitFor((s) => s.name === "stream:features");
    this.splitter.reset();
    this.header();
    await features;
    const bound = this.waitFor((s) => s.name === "iq" && s.attrs.id === "bind");
    this.write(
      `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${escAttr(this.resource)}</resource></bind></iq>`,
    );
    const bind = await bound;
    const jid = /<jid>([^<]+)<\/jid>/.exec(bind.text)?.[1];
    if (bind.attrs.type !== "result" || !jid) throw new Error(`${this.user}: bind failed: ${bind.text}`);
    this.jid = jid;
    this.write(`<presence>${this.presence}</presence>`);
  }

  write(data) {
    this.socket.write(data);
  }

  /** Subclass hook: true when the element's text was consumed (a bench message counted). */
  // eslint-disable-next-line no-unused-vars -- a hook: the base class counts nothing
  intercept(_text) {
    return false;
  }

  /** Subclass hook: sees every stanza not intercepted, before the waiters. */
  // eslint-disable-next-line no-unused-vars -- a hook: the base class watches nothing
  observe(_stanza) {}

  element(text) {
    if (this.intercept(text)) return;
    const stanza = { name: text.slice(1, text.search(/[\s/>]/)), attrs: startTagAttrs(text), text };
    if (stanza.name === "iq" && (stanza.attrs.type === "get" || stanza.attrs.type === "set"))
      return this.answerIq(stanza);
    this.observe(stanza);
    for (const w of this.waiters) {
      if (w.pred(stanza)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(stanza);
        return;
      }
    }
    if (this.keep > 0) {
      this.recent.push(stanza);
      if (this.recent.length > this.keep) this.recent.shift();
    }
  }

  /** disco#info (XEP-0030 §3.1) answered with the client's features (and the asked node, XEP-0115 §6.2); anything else refused. */
  answerIq(stanza) {
    const { id = "", from } = stanza.attrs;
    const to = from ? ` to='${escAttr(from)}'` : "";
    if (stanza.attrs.type === "get" && stanza.text.includes(NS_DISCO_INFO)) {
      const node = /node=['"]([^'"]*)['"]/.exec(stanza.text)?.[1];
      const features = this.features.map((v) => `<feature var='${v}'/>`).join("");
      this.write(
        `<iq type='result' id='${escAttr(id)}'${to}><query xmlns='${NS_DISCO_INFO}'${node ? ` node='${escAttr(node)}'` : ""}><identity category='client' type='pc' name='bench'/>${features}</query></iq>`,
      );
    } else {
      this.write(
        `<iq type='error' id='${escAttr(id)}'${to}><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
      );
    }
  }

  /** The oldest kept or next stanza matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred, timeoutMs = this.waitMs) {
    const hit = this.recent.findIndex(pred);
    if (hit >= 0) return Promise.resolve(this.recent.splice(hit, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.delete(w);
        const last = this.recent.slice(-3).map((s) => s.text.slice(0, 300));
        reject(
          new Error(
            `${this.user}: timed out after ${timeoutMs} ms${last.length ? `; last: ${last.join(" | ")}` : ""}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** The self-presence of room/nick (XEP-0045 §7.2.2, status 110) or the error, once it comes. */
  selfPresence(room, nick) {
    return this.waitFor(
      (s) =>
        s.name === "presence" &&
        s.attrs.from === `${room}/${nick}` &&
        (s.attrs.type === "error" || /code=["']110["']/.test(s.text)),
    );
  }

  /** Joins room/nick (XEP-0045 §7.2) asking for `maxstanzas` of history; resolves with the self-presence. */
  async join(room, nick, maxstanzas = 0) {
    const self = this.selfPresence(room, nick);
    this.write(
      `<presence to='${escAttr(`${room}/${nick}`)}'><x xmlns='${NS_MUC}'><history maxstanzas='${maxstanzas}'/></x>${this.presence}</presence>`,
    );
    const presence = await self;
    if (presence.attrs.type === "error")
      throw new Error(`${this.user}: join of ${room} refused: ${presence.text.slice(0, 300)}`);
    return presence;
  }

  /** Leaves room/nick (XEP-0045 §7.14); resolves once the unavailable self-presence comes. */
  async leave(room, nick) {
    const full = `${room}/${nick}`;
    const gone = this.waitFor(
      (s) => s.name === "presence" && s.attrs.from === full && s.attrs.type === "unavailable",
    );
    this.write(`<presence to='${escAttr(full)}' type='unavailable'/>`);
    await gone;
  }

  /** Sends an iq and resolves with its result; an error reply rejects. */
  async iq(body, id) {
    const reply = this.waitFor((s) => s.name === "iq" && s.attrs.id === id);
    this.write(body);
    const r = await reply;
    if (r.attrs.type !== "result") throw new Error(`${this.user}: iq ${id} failed: ${r.text}`);
    return r;
  }

  close() {
    this.write("</stream:stream>");
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }
}
