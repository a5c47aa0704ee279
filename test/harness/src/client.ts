// Real XMPP clients (@xmpp/client 0.14) for tests, connected over plain TCP on loopback.
//
// What works with both servers: service "xmpp://127.0.0.1:<c2sPort>", domain = the server domain.
// Neither test server offers STARTTLS, so the stream stays unencrypted. On an insecure stream
// @xmpp/client on its own refuses PLAIN and picks SCRAM-SHA-1 (both servers offer it), which costs
// ~100-250 ms of PBKDF2 per login; so the harness passes a credentials function that picks the
// mechanism itself: PLAIN by default (allowed by allow_unencrypted_plain_auth on Prosody, and by
// default on ejabberd), SCRAM-SHA-1 on request. Reconnection is switched off so a server stop or
// kill is seen by the test instead of being papered over.
import { client as xmppClient } from "@xmpp/client";
import { randomBytes } from "node:crypto";
import { ClientConnectError, ClientStoppedError, IqErrorResponse, WaitTimeoutError } from "./errors.js";
import { xml } from "./xml.js";
import type { Element } from "./xml.js";
import type { XmppServer } from "./types.js";

/** The part of the @xmpp/client instance the harness relies on (the object has more). */
export interface XmppClient {
  jid: { toString(): string } | null;
  status: string;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: Element): Promise<void>;
  on(event: "stanza", listener: (el: Element) => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "offline" | "online" | "disconnect" | "connect", listener: () => void): unknown;
  reconnect: { stop(): void };
}
/** The @xmpp/client instance type, as named in the harness brief. */
export type Client = XmppClient;

type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;
interface ClientFactoryOptions {
  service: string;
  domain: string;
  credentials: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
  resource?: string;
}
const createClient = xmppClient as (options: ClientFactoryOptions) => XmppClient;

export interface TestClient {
  /** Full JID after resource binding. */
  readonly jid: string;
  /** The online @xmpp/client instance. */
  readonly xmpp: XmppClient;
  /** Everything received since connecting (stanzas only), oldest first. */
  readonly received: Element[];
  send(el: Element): Promise<void>;
  /**
   * Resolves with the oldest received stanza matching `pred` that no earlier waitFor/iq took,
   * waiting up to timeoutMs (default 5000) for one to arrive; rejects with WaitTimeoutError.
   * Stanzas that arrived before the call count, so a reply racing the call is never lost.
   */
  waitFor(pred: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Sends an iq get/set (an id is added if missing); resolves with the result, rejects with IqErrorResponse on an error reply. */
  iq(el: Element, timeoutMs?: number): Promise<Element>;
  stop(): Promise<void>;
}

export interface ConnectOptions {
  /** Send initial presence and wait for its reflection (RFC 6121 §4.2.2); default true. */
  presence?: boolean;
  /** Connect/login timeout, default 10 s. */
  timeoutMs?: number;
  /** SASL mechanism (RFC 6120 §6); default "PLAIN" (cheapest), "SCRAM-SHA-1" for non-ASCII passwords. */
  mechanism?: "PLAIN" | "SCRAM-SHA-1";
  /** The local address the client connects from (e.g. 127.0.0.2: another loopback address, as the server sees it). */
  localAddress?: string;
}

interface Waiter {
  pred: (el: Element) => boolean;
  resolve: (el: Element) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_WAIT_MS = 5_000;

function describe(el: Element): string {
  const s = el.toString();
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

class HarnessClient implements TestClient {
  readonly received: Element[] = [];
  private readonly taken = new Set<Element>();
  private readonly waiters = new Set<Waiter>();
  private stopped = false;
  jid = "";

  constructor(
    readonly xmpp: XmppClient,
    private readonly label: string,
  ) {
    xmpp.on("stanza", (el) => this.onStanza(el));
  }

  private onStanza(el: Element): void {
    this.received.push(el);
    for (const w of this.waiters) {
      if (!this.taken.has(el) && safeMatch(w.pred, el)) {
        this.taken.add(el);
        this.settle(w);
        w.resolve(el);
        return;
      }
    }
  }

  private settle(w: Waiter): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
  }

  send(el: Element): Promise<void> {
    return this.xmpp.send(el);
  }

  waitFor(pred: (el: Element) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<Element> {
    const already = this.received.find((el) => !this.taken.has(el) && safeMatch(pred, el));
    if (already) {
      this.taken.add(already);
      return Promise.resolve(already);
    }
    if (this.stopped) return Promise.reject(new ClientStoppedError(this.jid || this.label));
    return new Promise<Element>((resolve, reject) => {
      const waiter: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const recent = this.received
            .slice(-5)
            .map((el) => `  ${describe(el)}`)
            .join("\n");
          reject(
            new WaitTimeoutError(
              `${this.jid || this.label}: no matching stanza within ${timeoutMs} ms (${this.received.length} received; last ${Math.min(5, this.received.length)}:${recent ? `\n${recent}` : " none"})`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  async iq(el: Element, timeoutMs = DEFAULT_WAIT_MS): Promise<Element> {
    const id = el.attrs["id"] ?? `h-${randomBytes(6).toString("hex")}`;
    el.attrs["id"] = id;
    const reply = this.waitFor(
      (r) =>
        r.is("iq") && r.attrs["id"] === id && (r.attrs["type"] === "result" || r.attrs["type"] === "error"),
      timeoutMs,
    );
    try {
      await this.send(el);
    } catch (err) {
      reply.catch(() => undefined);
      throw err;
    }
    const result = await reply;
    if (result.attrs["type"] === "error") {
      const error = result.getChild("error");
      const condition = error
        ?.getChildElements()
        .find((c) => c.getNS() === "urn:ietf:params:xml:ns:xmpp-stanzas" && c.name !== "text")?.name;
      throw new IqErrorResponse<Element>(condition, result, describe(result));
    }
    return result;
  }

  failWaiters(): void {
    for (const w of this.waiters) {
      this.settle(w);
      w.reject(new ClientStoppedError(this.jid || this.label));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.xmpp.reconnect.stop();
    this.failWaiters();
    try {
      await this.xmpp.stop();
    } catch {
      // the server may already be gone (kill tests)
    }
  }
}

function safeMatch(pred: (el: Element) => boolean, el: Element): boolean {
  try {
    return pred(el);
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Connects and authenticates a user of `server` (resource random unless given). */
export async function connectClient(
  server: XmppServer,
  username: string,
  password: string,
  resource?: string,
  options: ConnectOptions = {},
): Promise<TestClient> {
  const bare = `${username}@${server.domain}`;
  const xmpp = createClient({
    service: `xmpp://${server.host}:${server.c2sPort}`,
    domain: server.domain,
    credentials: async (authenticate, mechanisms) => {
      // @xmpp/sasl-plain 0.14 base64-encodes the password as Latin-1, so a non-ASCII password
      // fails with PLAIN: use SCRAM-SHA-1 (correct UTF-8) for those unless told otherwise.
      const wanted =
        options.mechanism ?? ([...password].every((ch) => ch.charCodeAt(0) < 0x80) ? "PLAIN" : "SCRAM-SHA-1");
      if (!mechanisms.includes(wanted))
        throw new Error(`server offers ${mechanisms.join(", ")}, not ${wanted}`);
      // @xmpp/sasl-plain base64-encodes with btoa (Latin-1 only): hand it the UTF-8 bytes as a
      // binary string, so a non-ASCII username (e.g. "rene\u0301") reaches the server as UTF-8.
      const name = wanted === "PLAIN" ? Buffer.from(username, "utf8").toString("latin1") : username;
      await authenticate({ username: name, password }, wanted);
    },
    resource: resource ?? `t-${randomBytes(4).toString("hex")}`,
  });
  xmpp.reconnect.stop();
  if (options.localAddress) {
    // The socket's connect options (net.Socket#connect localAddress): where the server sees the client.
    const client = xmpp as unknown as {
      socketParameters(service: string): Record<string, unknown> | undefined;
    };
    const parameters = client.socketParameters.bind(client);
    const localAddress = options.localAddress;
    client.socketParameters = (service) => {
      const p = parameters(service);
      return p ? { ...p, localAddress } : p;
    };
  }
  // @xmpp/client decodes each TCP chunk on its own, corrupting a multibyte UTF-8 character split
  // across reads (docs/servers.md §3). Decode the socket as one stream, as Cordon's runtime does, so
  // the tests see what the server really sent.
  xmpp.on("connect", () => {
    const socket = (xmpp as unknown as { socket?: { setEncoding?(e: string): void } }).socket;
    socket?.setEncoding?.("utf8");
  });
  const client = new HarnessClient(xmpp, bare);
  const errors: Error[] = [];
  xmpp.on("error", (err) => {
    errors.push(err);
  });
  xmpp.on("offline", () => client.failWaiters());
  try {
    await withTimeout(xmpp.start(), options.timeoutMs ?? 10_000, `login of ${bare}`);
  } catch (err) {
    await client.stop();
    throw new ClientConnectError(bare, errors[0] ?? err);
  }
  client.jid = xmpp.jid?.toString() ?? bare;
  if (options.presence ?? true) {
    const jid = client.jid;
    try {
      const reflected = client.waitFor(
        (el) => el.is("presence") && el.attrs["from"] === jid && el.attrs["type"] === undefined,
        options.timeoutMs ?? 10_000,
      );
      await client.send(xml("presence"));
      await reflected;
    } catch (err) {
      await client.stop();
      throw new ClientConnectError(bare, err);
    }
  }
  return client;
}
