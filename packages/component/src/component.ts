// The hardened component: an XEP-0114 connection (https://xmpp.org/extensions/xep-0114.html)
// over @xmpp/component-core, composed of one module per concern: the repaired connection
// (entity.ts), the §3 handshake (handshake.ts), fatal stream errors (stream-errors.ts), the
// reconnect loop with capped backoff and jitter (reconnect.ts), the IQ caller (iq-caller.ts),
// dispatch of incoming stanzas to handlers that cannot crash the process (dispatch.ts), and the
// send paths through a bounded queue with socket backpressure (send.ts).
import { EventEmitter } from "node:events";
import type { Element } from "./xml.js";
import { createBackoff, type BackoffOptions } from "./backoff.js";
import { createOutgoingQueue } from "./outgoing-queue.js";
import { createIqRouter, type IqHandlers, type IqRouter } from "./iq-router.js";
import type { StanzaErrorSpec } from "./stanza-error.js";
import { registerDisco, type DiscoInfoResolver, type DiscoItemsResolver } from "./disco.js";
import { errorSummary, silentLogger, type Logger } from "./logger.js";
import { ComponentAlreadyStartedError, ComponentStoppedError, type CordonComponentError } from "./errors.js";
import type { ComponentStatus, LinkState } from "./link-state.js";
import { closeEntity, createEntity } from "./entity.js";
import { recordStreamError } from "./stream-errors.js";
import { installHandshake } from "./handshake.js";
import { connectOnce } from "./connect-attempt.js";
import { createReconnect } from "./reconnect.js";
import { createIqCaller } from "./iq-caller.js";
import { createDispatcher, type StanzaHandler } from "./dispatch.js";
import { createIncomingHold, type HeardGate } from "./incoming-hold.js";
import { createSender, type StanzaCopies } from "./send.js";
import { stanzaLimits, type StanzaLimits, type StanzaPart } from "./stanza-limits.js";

export type { ComponentStatus } from "./link-state.js";
export type { StanzaHandler } from "./dispatch.js";

export interface ComponentOptions {
  /** Where the server's component listener is, e.g. `xmpp://127.0.0.1:5347`. */
  service: string;
  /** The component's domain (its JID). */
  domain: string;
  /** The shared secret of the XEP-0114 handshake. */
  secret: string;
  logger?: Logger;
  reconnect?: BackoffOptions & { enabled?: boolean };
  /** The outgoing queue: stanzas (default 10,000) and bytes (default 32 MiB) that may wait. */
  queue?: { limit?: number; maxBytes?: number; offlineTimeoutMs?: number };
  /** Timeout for one connection attempt (TCP + stream + handshake). Default 10 s. */
  connectTimeoutMs?: number;
  /** Default timeout for IQs we send. Default 15 s. */
  iqTimeoutMs?: number;
  /**
   * When false, IQ get/set stanzas are left to `stanza` listeners and the IQ router never answers
   * them (a relay forwards them instead). Default true.
   */
  routeIqs?: boolean;
  /**
   * The largest stanza written to the server, in UTF-8 bytes; every input bound derives from it
   * (stanza-limits.ts). Keep it below the server's limit (512 KiB on both). Default 256 KiB.
   */
  maxStanzaBytes?: number;
}

export interface ComponentEvents {
  online: [];
  offline: [reason: string];
  fatal: [error: CordonComponentError];
  /** A stanza passed on to its handlers (after the incoming hold). */
  stanza: [stanza: Element];
  /**
   * A stanza read from the server, before the incoming hold: the link carries traffic even while
   * its stanzas wait (a clustered MUC takes a silent link for one without a slot).
   */
  received: [stanza: Element];
  /** Stanzas handed to the outgoing queue (for metrics; emitted once per send call). */
  sent: [count: number];
  /** A stanza over a size bound: an incoming one refused (with the part) or an outgoing one not written. */
  oversize: [direction: "in" | "out", part: StanzaPart];
}

export interface CordonComponent {
  readonly domain: string;
  readonly status: ComponentStatus;
  readonly logger: Logger;
  readonly iq: IqRouter;
  /** The size bounds of what it receives and sends (stanza-limits.ts). */
  readonly limits: StanzaLimits;
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
  /**
   * Sends copies of one stanza to many recipients (a MUC fan-out): what sendRaw checks, checked on
   * the parts (send.ts StanzaCopies), without reading each copy whole. Waits for queue room.
   */
  sendCopies(copies: StanzaCopies): Promise<void>;
  /** Sends an IQ get/set and resolves with the result stanza (rejects with IqError / IqTimeoutError). */
  request(iq: Element, timeoutMs?: number): Promise<Element>;
  /** Replies to `stanza` with an error; never for an error stanza, never copying its payload. */
  replyError(stanza: Element, spec: StanzaErrorSpec, from?: string): Promise<void>;
  onMessage(handler: StanzaHandler): void;
  onPresence(handler: StanzaHandler): void;
  handleIq(namespace: string, handlers: IqHandlers, name?: string): void;
  /**
   * Holds incoming stanzas, in order, while `heard` answers a promise (incoming-hold.ts): e.g. the
   * store's notificationsHeard, so nothing is decided before a change published earlier is heard.
   */
  holdIncoming(heard: HeardGate | undefined): void;
  disco(resolvers: { info: DiscoInfoResolver; items?: DiscoItemsResolver }): void;
  on<E extends keyof ComponentEvents>(event: E, listener: (...args: ComponentEvents[E]) => void): this;
  once<E extends keyof ComponentEvents>(event: E, listener: (...args: ComponentEvents[E]) => void): this;
  off<E extends keyof ComponentEvents>(event: E, listener: (...args: ComponentEvents[E]) => void): this;
  readonly queueDepth: number;
  /** Bytes waiting in the outgoing queue (two a character). */
  readonly queueBytes: number;
  readonly reconnects: number;
}

export function createComponent(options: ComponentOptions): CordonComponent {
  const domain = options.domain;
  const logger = (options.logger ?? silentLogger()).child({ component: domain });
  const emitter = new EventEmitter();
  const iq = createIqRouter();
  const link: LinkState = { status: "idle" };
  const queue = createOutgoingQueue({ domain, ...(options.queue ?? {}) });
  const limits = stanzaLimits(options.maxStanzaBytes);
  const sender = createSender({
    domain,
    queue,
    limits,
    logger,
    onQueued: (count) => emitter.emit("sent", count),
    onOversize: () => emitter.emit("oversize", "out", "stanza"),
  });
  const caller = createIqCaller({ send: sender.send, timeoutMs: options.iqTimeoutMs ?? 15_000 });
  const dispatcher = createDispatcher({
    link,
    logger,
    caller,
    router: iq,
    sender,
    routeIqs: options.routeIqs !== false,
    onStanza: (stanza) => emitter.emit("stanza", stanza),
    limits,
    onOversize: (part) => emitter.emit("oversize", "in", part),
  });

  const entity = createEntity({
    service: options.service,
    domain,
    logger,
    onError: (error) => recordStreamError(link, error, domain, logger),
  });
  installHandshake(entity, domain, options.secret);
  const reconnect = createReconnect({
    link,
    backoff: createBackoff(options.reconnect ?? {}),
    enabled: options.reconnect?.enabled !== false,
    logger,
    attempt: () =>
      connectOnce(entity, {
        service: options.service,
        domain,
        timeoutMs: options.connectTimeoutMs ?? 10_000,
        link,
      }),
    onOffline: (reason) => emitter.emit("offline", reason),
    onFatal: (error) => {
      queue.close();
      caller.rejectAll(error);
      emitter.emit("fatal", error);
    },
  });

  const hold = createIncomingHold({
    dispatch: (stanza) => dispatcher.dispatch(stanza),
    // Held past its bound: `wait`, nothing of it (a leave is not answered: RFC 6121 §4.5.2).
    refuse: (stanza) => {
      if (stanza.name === "presence" && stanza.attrs.type === "unavailable") return;
      sender
        .replyError(stanza, {
          condition: "resource-constraint",
          type: "wait",
          text: "service busy; try again",
        })
        .catch((error: unknown) => logger.debug({ err: errorSummary(error) }, "could not refuse a stanza"));
    },
  });
  entity.on("stanza", (stanza: Element) => {
    emitter.emit("received", stanza);
    hold.receive(stanza);
  });
  entity.on("online", () => {
    const socket = entity.socket;
    if (!socket) return;
    reconnect.online();
    queue.attach(socket);
    emitter.emit("online");
  });
  entity.on("disconnect", () => {
    queue.detach();
    reconnect.disconnected();
  });

  let loop: Promise<void> | undefined;
  const api: CordonComponent = {
    get domain() {
      return domain;
    },
    get status() {
      return link.status;
    },
    logger,
    iq,
    limits,
    get queueDepth() {
      return queue.depth;
    },
    get queueBytes() {
      return queue.bytes;
    },
    get reconnects() {
      return reconnect.reconnects;
    },
    start() {
      if (loop) return Promise.reject(new ComponentAlreadyStartedError(domain));
      return new Promise<void>((resolve, reject) => {
        loop = reconnect.run({ resolve, reject });
      });
    },
    async stop(flushTimeoutMs = 5_000) {
      if (link.status === "stopped" || link.status === "stopping") return;
      const wasOnline = link.status === "online";
      link.status = "stopping";
      reconnect.wake();
      if (wasOnline) await queue.flush(flushTimeoutMs);
      queue.close();
      caller.rejectAll(new ComponentStoppedError(domain));
      await closeEntity(entity, logger);
      link.status = "stopped";
      await loop?.catch(() => undefined);
      logger.info("stopped");
    },
    send: sender.send,
    sendAll: sender.sendAll,
    sendRaw: sender.sendRaw,
    sendCopies: sender.sendCopies,
    request: caller.request,
    replyError: sender.replyError,
    onMessage: dispatcher.onMessage,
    onPresence: dispatcher.onPresence,
    handleIq(namespace, handlers, name) {
      iq.handle(namespace, handlers, name);
    },
    holdIncoming(heard) {
      hold.gate(heard);
    },
    disco(resolvers) {
      // Room lists grow with use: at most half the stanza bound of items (stanza-limits.ts).
      registerDisco(iq, resolvers, limits.stanza);
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
