// The hardened component: an XEP-0114 connection (https://xmpp.org/extensions/xep-0114.html)
// over @xmpp/component-core, with what design.md §2 found missing in the raw library:
// stream-decoded UTF-8, capped exponential reconnect with jitter, fatal handshake errors,
// a bounded queue with socket backpressure, `from`+`to` on every stanza, and handlers that
// cannot crash the process.
import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { Socket } from "node:net";
import { Component as CoreComponent } from "@xmpp/component-core";
import { xml, type Element } from "./xml.js";
import { createBackoff, type BackoffOptions } from "./backoff.js";
import { createOutgoingQueue, type OutgoingQueue } from "./outgoing-queue.js";
import { writeWithBackpressure } from "./write-all.js";
import { createIqRouter, iqResult, type IqHandlers, type IqRouter } from "./iq-router.js";
import { errorReply, isErrorStanza, readStanzaError, type StanzaErrorSpec } from "./stanza-error.js";
import { registerDisco, type DiscoInfoResolver, type DiscoItemsResolver } from "./disco.js";
import { silentLogger, type Logger } from "./logger.js";
import {
  AuthenticationFailedError,
  CordonComponentError,
  DomainConflictError,
  IqError,
  IqTimeoutError,
  MissingAddressError,
  UnknownDomainError,
  ComponentStoppedError,
} from "./errors.js";

export type ComponentStatus =
  "idle" | "connecting" | "online" | "offline" | "stopping" | "stopped" | "failed";

export interface ComponentOptions {
  /** Where the server's component listener is, e.g. `xmpp://127.0.0.1:5347`. */
  service: string;
  /** The component's domain (its JID). */
  domain: string;
  /** The shared secret of the XEP-0114 handshake. */
  secret: string;
  logger?: Logger;
  reconnect?: BackoffOptions & { enabled?: boolean };
  queue?: { limit?: number; offlineTimeoutMs?: number };
  /** Timeout for one connection attempt (TCP + stream + handshake). Default 10 s. */
  connectTimeoutMs?: number;
  /** Default timeout for IQs we send. Default 15 s. */
  iqTimeoutMs?: number;
  /**
   * When false, IQ get/set stanzas are left to `stanza` listeners and the IQ router never answers
   * them (a relay forwards them instead). Default true.
   */
  routeIqs?: boolean;
}

export type StanzaHandler = (stanza: Element) => Promise<void> | void;

export interface ComponentEvents {
  online: [];
  offline: [reason: string];
  fatal: [error: CordonComponentError];
  stanza: [stanza: Element];
  /** Stanzas handed to the outgoing queue (for metrics; emitted once per send call). */
  sent: [count: number];
}

export interface CordonComponent {
  readonly domain: string;
  readonly status: ComponentStatus;
  readonly logger: Logger;
  readonly iq: IqRouter;
  /** Connects; resolves when first online, rejects on a fatal error (wrong secret, conflict). */
  start(): Promise<void>;
  /** Stops accepting, flushes the queue (bounded), closes the stream. Idempotent. */
  stop(flushTimeoutMs?: number): Promise<void>;
  /** Queues a stanza (adds `from` if missing; refuses one without `to`); resolves when written. */
  send(stanza: Element): Promise<void>;
  /** Sends many stanzas with backpressure: waits for queue room instead of failing. */
  sendAll(stanzas: Iterable<Element>): Promise<void>;
  /**
   * Sends pre-serialised stanzas (the fan-out path: no element tree per copy). Each must be one
   * complete stanza with `from` and `to`; a string that does not start like one is refused.
   * Waits for queue room like sendAll.
   */
  sendRaw(stanzas: Iterable<string>): Promise<void>;
  /** Sends an IQ get/set and resolves with the result stanza (rejects with IqError / IqTimeoutError). */
  request(iq: Element, timeoutMs?: number): Promise<Element>;
  /** Replies to `stanza` with an error; never for an error stanza, never copying its payload. */
  replyError(stanza: Element, spec: StanzaErrorSpec, from?: string): Promise<void>;
  onMessage(handler: StanzaHandler): void;
  onPresence(handler: StanzaHandler): void;
  handleIq(namespace: string, handlers: IqHandlers, name?: string): void;
  disco(resolvers: { info: DiscoInfoResolver; items?: DiscoItemsResolver }): void;
  on<E extends keyof ComponentEvents>(event: E, listener: (...args: ComponentEvents[E]) => void): this;
  once<E extends keyof ComponentEvents>(event: E, listener: (...args: ComponentEvents[E]) => void): this;
  off<E extends keyof ComponentEvents>(event: E, listener: (...args: ComponentEvents[E]) => void): this;
  readonly queueDepth: number;
  readonly reconnects: number;
}

/** The parts of @xmpp/component-core's Component (an @xmpp/connection) that we drive. */
interface CoreEntity {
  status: string;
  socket: (Socket & { writableLength: number }) | null;
  Socket: typeof Socket;
  /** The stream parser; null once a parse error detached it. */
  parser: { emit(event: "error", error: unknown): boolean } | null;
  /** Feeds socket data to the parser (bound as the socket's 'data' listener at each connect). */
  _onData(data: Buffer | string): void;
  options: { service: string; domain: string };
  on(event: string, listener: (...args: never[]) => void): void;
  once(event: string, listener: (...args: never[]) => void): void;
  removeListener(event: string, listener: (...args: never[]) => void): void;
  emit(event: string, ...args: unknown[]): boolean;
  connect(service: string): Promise<void>;
  open(options: { domain: string }): Promise<void>;
  write(data: string): Promise<void>;
  stop(): Promise<void>;
  _jid(id: string): void;
  _status(status: string, ...args: unknown[]): void;
}

/**
 * A socket that decodes its bytes as one UTF-8 stream (StringDecoder), so a multibyte character
 * split across two TCP reads is reassembled instead of becoming two U+FFFD (design.md §2).
 */
class Utf8Socket extends Socket {
  constructor() {
    super();
    this.setEncoding("utf8");
    this.setNoDelay(true);
  }
}

const FATAL_CONDITIONS: Record<string, (domain: string) => CordonComponentError> = {
  "not-authorized": (d) => new AuthenticationFailedError(d),
  conflict: (d) => new DomainConflictError(d),
  "host-unknown": (d) => new UnknownDomainError(d),
};

/** A serialised stanza that names both `from` and `to` in its start tag. */
/** Whether serialised XML is a stanza start tag carrying both `from` and `to` (checked per copy, so without a regular expression). */
function addressedStanza(data: string): boolean {
  const name = data.startsWith("<message")
    ? 8
    : data.startsWith("<presence")
      ? 9
      : data.startsWith("<iq")
        ? 3
        : 0;
  if (name === 0 || !isXmlSpace(data.charCodeAt(name))) return false;
  const end = data.indexOf(">");
  return end > 0 && hasAttribute(data, "from", end) && hasAttribute(data, "to", end);
}

/** `name=` followed by a quote, preceded by white space, before `end` (the start tag's close). */
function hasAttribute(data: string, name: string, end: number): boolean {
  for (let at = data.indexOf(`${name}=`, 1); at > 0 && at < end; at = data.indexOf(`${name}=`, at + 1)) {
    const before = data.charCodeAt(at - 1);
    const quote = data.charCodeAt(at + name.length + 1);
    if (isXmlSpace(before) && (quote === 34 || quote === 39)) return true;
  }
  return false;
}

const isXmlSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

export function createComponent(options: ComponentOptions): CordonComponent {
  const domain = options.domain;
  const logger = (options.logger ?? silentLogger()).child({ component: domain });
  const emitter = new EventEmitter();
  const iq = createIqRouter();
  const backoff = createBackoff(options.reconnect ?? {});
  const reconnectEnabled = options.reconnect?.enabled !== false;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const iqTimeoutMs = options.iqTimeoutMs ?? 15_000;
  const queue: OutgoingQueue = createOutgoingQueue({ domain, ...(options.queue ?? {}) });
  const pendingIqs = new Map<
    string,
    { resolve: (el: Element) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  const messageHandlers: StanzaHandler[] = [];
  const presenceHandlers: StanzaHandler[] = [];

  let status: ComponentStatus = "idle";
  let reconnects = 0;
  let fatalError: CordonComponentError | undefined;
  let wakeSleep: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let lastOfflineReason: string | undefined;

  const entity = new (CoreComponent as new (o: { service: string; domain: string }) => CoreEntity)({
    service: options.service,
    domain,
  });
  entity.Socket = Utf8Socket;

  // The library parses inside the socket's 'data' listener, where a throw is an uncaught exception:
  // ltx throws on an undefined entity or an illegal character reference, and data that arrives
  // after a parse error finds the parser detached (null). Both are a malformed stream (RFC 6120
  // §4.9.3.1 bad-format): the parser's 'error' closes the stream and we reconnect; the rest of
  // the broken stream is dropped.
  const parseData = entity._onData.bind(entity);
  entity._onData = (data) => {
    const parser = entity.parser;
    if (!parser) return;
    try {
      parseData(data);
    } catch (error) {
      if (entity.parser === parser) parser.emit("error", error);
      else logger.debug({ err: errorSummary(error) }, "malformed data after a stream error");
    }
  };

  // An 'error' without a listener would throw from inside the library: always listen.
  entity.on("error", (error: Error & { condition?: string }) => {
    // Own properties only: a condition named "constructor" or "toString" is not fatal.
    const make =
      error.condition && Object.hasOwn(FATAL_CONDITIONS, error.condition)
        ? FATAL_CONDITIONS[error.condition]
        : undefined;
    if (make && !fatalError) {
      fatalError = make(domain);
      logger.error({ code: fatalError.code }, fatalError.message);
    } else if (!make) {
      logger.debug({ err: error.message }, "connection error");
    }
  });

  // XEP-0114 §3 (https://xmpp.org/extensions/xep-0114.html#protocol): handshake = hex(SHA-1(streamId + secret)).
  // The secret is hashed as UTF-8 (the library used latin1, breaking non-ASCII secrets).
  // One listener for the whole life of the entity (not one per attempt): the first element after
  // our <handshake/> is either the server's <handshake/> or a stream error.
  let awaitingHandshake = false;
  entity.on("element", (el: Element) => {
    if (!awaitingHandshake) return;
    awaitingHandshake = false;
    if (el.name === "handshake") {
      entity._jid(domain);
      entity._status("online");
    }
    // A stream error here is reported through the 'error' listener above.
  });
  entity.on("open", (header: Element) => {
    const streamId = header.attrs.id ?? "";
    const digest = createHash("sha1")
      .update(streamId + options.secret, "utf8")
      .digest("hex");
    awaitingHandshake = true;
    entity
      .write(xml("handshake", {}, digest).toString())
      .catch((error: Error) => entity.emit("error", error));
  });

  entity.on("stanza", (stanza: Element) => dispatch(stanza));

  entity.on("online", () => {
    const socket = entity.socket;
    if (!socket) return;
    status = "online";
    backoff.reset();
    queue.attach(socket);
    if (lastOfflineReason !== undefined) logger.info({ reconnects }, "reconnected");
    else logger.info("online");
    lastOfflineReason = undefined;
    emitter.emit("online");
  });

  entity.on("disconnect", () => {
    awaitingHandshake = false;
    queue.detach();
    if (status === "online") {
      status = "offline";
      lastOfflineReason = "connection closed";
      logger.warn("connection to the server lost");
      emitter.emit("offline", lastOfflineReason);
    }
    wakeSleep?.();
  });

  function dispatch(stanza: Element): void {
    if (status === "stopping" || status === "stopped") return;
    try {
      emitter.emit("stanza", stanza);
      if (stanza.name === "iq") onIq(stanza);
      else if (stanza.name === "message") runHandlers(messageHandlers, stanza);
      else if (stanza.name === "presence") runHandlers(presenceHandlers, stanza);
    } catch (error) {
      logger.error({ err: errorSummary(error), stanza: stanza.name }, "stanza handler threw");
    }
  }

  function runHandlers(handlers: StanzaHandler[], stanza: Element) {
    for (const handler of handlers) {
      try {
        const result = handler(stanza);
        if (result && typeof result.then === "function") {
          result.catch((error: unknown) =>
            logger.error({ err: errorSummary(error), stanza: stanza.name }, "stanza handler failed"),
          );
        }
      } catch (error) {
        logger.error({ err: errorSummary(error), stanza: stanza.name }, "stanza handler threw");
      }
    }
  }

  function onIq(stanza: Element) {
    const type = stanza.attrs.type;
    if (type === "result" || type === "error") {
      const id = stanza.attrs.id;
      const pending = id ? pendingIqs.get(id) : undefined;
      if (!pending || !id) return;
      pendingIqs.delete(id);
      clearTimeout(pending.timer);
      if (type === "result") pending.resolve(stanza);
      else {
        const { condition, text } = readStanzaError(stanza);
        pending.reject(new IqError(condition, text));
      }
      return;
    }
    if (options.routeIqs === false) return;
    iq.route(stanza)
      .then((outcome) => {
        if (outcome.kind === "result") return send(iqResult(stanza, outcome.payload));
        if (outcome.cause)
          logger.error({ err: errorSummary(outcome.cause), ns: firstChildNs(stanza) }, "iq handler failed");
        return replyError(stanza, outcome.spec);
      })
      .catch((error: unknown) => logger.warn({ err: errorSummary(error) }, "could not answer iq"));
  }

  function prepare(stanza: Element): string {
    if (!stanza.attrs.from) stanza.attrs.from = domain;
    // ejabberd closes the stream on a stanza without `to` (design.md §2): refuse it here instead.
    if (!stanza.attrs.to) throw new MissingAddressError("to", stanza.name);
    return stanza.toString();
  }

  function send(stanza: Element): Promise<void> {
    let data: string;
    try {
      data = prepare(stanza);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    emitter.emit("sent", 1);
    return queue.push(data);
  }

  async function writeAll(data: Iterable<string>): Promise<void> {
    await writeWithBackpressure(queue, data, (count) => emitter.emit("sent", count));
  }

  function sendAll(stanzas: Iterable<Element>): Promise<void> {
    return writeAll(
      (function* () {
        for (const stanza of stanzas) yield prepare(stanza);
      })(),
    );
  }

  function sendRaw(stanzas: Iterable<string>): Promise<void> {
    return writeAll(
      (function* () {
        for (const data of stanzas) {
          if (!addressedStanza(data))
            throw new MissingAddressError("to", data.slice(1, data.search(/[\s/>]/)) || "?");
          yield data;
        }
      })(),
    );
  }

  function replyError(stanza: Element, spec: StanzaErrorSpec, from?: string): Promise<void> {
    if (isErrorStanza(stanza) || !stanza.attrs.from) return Promise.resolve();
    return send(errorReply(stanza, spec, from));
  }

  function request(stanza: Element, timeoutMs = iqTimeoutMs): Promise<Element> {
    const id = stanza.attrs.id ?? `c${randomBytes(8).toString("hex")}`;
    stanza.attrs.id = id;
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        pendingIqs.delete(id);
        reject(new IqTimeoutError(timeoutMs));
      }, timeoutMs);
      pendingIqs.set(id, { resolve, reject, timer });
      send(stanza).catch((error: Error) => {
        clearTimeout(timer);
        pendingIqs.delete(id);
        reject(error);
      });
    });
  }

  /** One connection attempt: TCP connect, stream open, handshake; resolves when online. */
  function attempt(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        entity.removeListener("online", onOnline);
        entity.removeListener("error", onError);
        entity.removeListener("disconnect", onDisconnect);
        if (error) {
          entity.socket?.destroy();
          reject(error);
        } else resolve();
      };
      const onOnline = (() => finish()) as (...args: never[]) => void;
      const onError = ((error: Error) => finish(fatalError ?? error)) as (...args: never[]) => void;
      const onDisconnect = (() => finish(fatalError ?? new Error("connection closed during handshake"))) as (
        ...args: never[]
      ) => void;
      const timer = setTimeout(
        () => finish(new Error(`no handshake within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      entity.on("online", onOnline);
      entity.on("error", onError);
      entity.on("disconnect", onDisconnect);
      entity
        .connect(options.service)
        .then(() => entity.open({ domain }))
        .catch((error: Error) => finish(fatalError ?? error));
    });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wakeSleep = undefined;
        resolve();
      }, ms);
      wakeSleep = () => {
        clearTimeout(timer);
        wakeSleep = undefined;
        resolve();
      };
    });
  }

  function waitOffline(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (status !== "online") return resolve();
      const done = () => {
        emitter.off("offline", done);
        resolve();
      };
      emitter.on("offline", done);
      const stopWait = () => resolve();
      wakeSleep = stopWait;
    });
  }

  async function run(firstOnline: { resolve: () => void; reject: (e: Error) => void }) {
    let announced = false;
    for (;;) {
      if (status === "stopping" || status === "stopped") return;
      if (status !== "online") status = "connecting";
      try {
        await attempt();
        if (!announced) {
          announced = true;
          firstOnline.resolve();
        }
        await waitOffline();
      } catch (error) {
        if (fatalError) {
          status = "failed";
          queue.close();
          rejectPendingIqs(fatalError);
          emitter.emit("fatal", fatalError);
          if (!announced) firstOnline.reject(fatalError);
          return;
        }
        if (lastOfflineReason === undefined) {
          lastOfflineReason = (error as Error).message;
          logger.warn({ err: lastOfflineReason }, "cannot reach the server; retrying with backoff");
        }
        if (!reconnectEnabled && !announced) {
          status = "failed";
          firstOnline.reject(error as Error);
          return;
        }
      }
      if ((status as ComponentStatus) === "stopping" || (status as ComponentStatus) === "stopped") return;
      if (!reconnectEnabled) {
        status = "offline";
        return;
      }
      status = "connecting";
      const delay = backoff.next();
      reconnects += 1;
      logger.debug({ delay, attempt: backoff.attempts }, "reconnecting");
      await sleep(delay);
    }
  }

  function rejectPendingIqs(error: Error) {
    for (const [id, pending] of pendingIqs) {
      clearTimeout(pending.timer);
      pending.reject(error);
      pendingIqs.delete(id);
    }
  }

  const api: CordonComponent = {
    get domain() {
      return domain;
    },
    get status() {
      return status;
    },
    logger,
    iq,
    get queueDepth() {
      return queue.depth;
    },
    get reconnects() {
      return reconnects;
    },
    start() {
      if (loop)
        return Promise.reject(
          new CordonComponentError("CORDON_COMPONENT_STARTED", `component ${domain}: already started`),
        );
      return new Promise<void>((resolve, reject) => {
        loop = run({ resolve, reject });
      });
    },
    async stop(flushTimeoutMs = 5_000) {
      if (status === "stopped" || status === "stopping") return;
      const wasOnline = status === "online";
      status = "stopping";
      wakeSleep?.();
      if (wasOnline) await queue.flush(flushTimeoutMs);
      queue.close();
      rejectPendingIqs(new ComponentStoppedError(domain));
      if (entity.status !== "offline" && entity.status !== "disconnect" && entity.socket) {
        try {
          await entity.stop();
        } catch (error) {
          logger.debug({ err: errorSummary(error) }, "stream close did not complete");
          entity.socket?.destroy();
        }
      }
      status = "stopped";
      await loop?.catch(() => undefined);
      logger.info("stopped");
    },
    send,
    sendAll,
    sendRaw,
    request,
    replyError,
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onPresence(handler) {
      presenceHandlers.push(handler);
    },
    handleIq(namespace, handlers, name) {
      iq.handle(namespace, handlers, name);
    },
    disco(resolvers) {
      registerDisco(iq, resolvers);
    },
    on(event, listener) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return api;
    },
    once(event, listener) {
      emitter.once(event, listener as (...args: unknown[]) => void);
      return api;
    },
    off(event, listener) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return api;
    },
  };
  // Nothing may leave an unhandled 'error' on our own emitter either.
  emitter.on("error", (error: unknown) => logger.error({ err: errorSummary(error) }, "component error"));
  return api;
}

function firstChildNs(stanza: Element): string | undefined {
  const child = stanza.children.find((c): c is Element => typeof c === "object");
  return child?.attrs.xmlns;
}

function errorSummary(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
