// The @xmpp/component-core connection we drive, with the repairs its socket handling needs
// (measured on the real servers): the socket is decoded as one UTF-8 stream, the parser is fed
// through a gate that keeps its work linear (parse-gate.ts), and a parse error is a `bad-format`
// stream error (RFC 6120 §4.9.3.1) instead of an uncaught exception.
import { Socket } from "node:net";
import { Component as CoreComponent } from "@xmpp/component-core";
import { errorSummary, type Logger } from "./logger.js";
import { createParseGate } from "./parse-gate.js";

/** The parts of @xmpp/component-core's Component (an @xmpp/connection) that we drive. */
export interface CoreEntity {
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
  /** The library's answer to a see-other-host stream error: connect to the host it names. */
  _onSeeOtherHost(error: Error): Promise<void>;
}

/**
 * A socket that decodes its bytes as one UTF-8 stream (StringDecoder), so a multibyte character
 * split across two TCP reads is reassembled instead of becoming two U+FFFD.
 */
class Utf8Socket extends Socket {
  constructor() {
    super();
    this.setEncoding("utf8");
    this.setNoDelay(true);
  }
}

export interface EntityOptions {
  service: string;
  domain: string;
  logger: Logger;
  /** Every 'error' the connection emits (an 'error' without a listener would throw). */
  onError(error: Error & { condition?: string }): void;
}

export function createEntity(options: EntityOptions): CoreEntity {
  const entity = new (CoreComponent as new (o: { service: string; domain: string }) => CoreEntity)({
    service: options.service,
    domain: options.domain,
  });
  entity.Socket = Utf8Socket;

  // The library parses inside the socket's 'data' listener, where a throw is an uncaught exception:
  // ltx throws on an undefined entity or an illegal character reference, and data that arrives
  // after a parse error finds the parser detached (null). Both are a malformed stream (RFC 6120
  // §4.9.3.1 bad-format): the parser's 'error' closes the stream and we reconnect; the rest of
  // the broken stream is dropped.
  const parseData = entity._onData.bind(entity);
  // Data reaches the parser only up to a `<` or `>` (parse-gate.ts); what is held belongs to the
  // stream of one parser, and a new stream (a reconnect) starts with nothing held.
  const gate = createParseGate(parseData);
  let gatedParser: CoreEntity["parser"] = null;
  entity._onData = (data) => {
    const parser = entity.parser;
    if (!parser) return;
    if (parser !== gatedParser) {
      gate.reset();
      gatedParser = parser;
    }
    try {
      gate.write(typeof data === "string" ? data : data.toString("utf8"));
    } catch (error) {
      if (entity.parser === parser) parser.emit("error", error);
      else options.logger.debug({ err: errorSummary(error) }, "malformed data after a stream error");
    }
  };

  // RFC 6120 §4.9.3.19 see-other-host: the library would connect to whatever host the server names
  // and send it our handshake, behind the reconnect loop's back (and an empty or malformed host
  // was an unhandled rejection). A component connects only to its configured service: the
  // redirection is a stream error like any other, and the link is retried there with backoff.
  entity._onSeeOtherHost = (error) => {
    entity.emit("error", error);
    return Promise.resolve();
  };

  // An 'error' without a listener would throw from inside the library: always listen.
  entity.on("error", (error: Error & { condition?: string }) => options.onError(error));
  return entity;
}

/** Closes the stream (RFC 6120 §4.4) if one is open; destroys the socket if that fails. */
export async function closeEntity(entity: CoreEntity, logger: Logger): Promise<void> {
  if (entity.status === "offline" || entity.status === "disconnect" || !entity.socket) return;
  try {
    await entity.stop();
  } catch (error) {
    logger.debug({ err: errorSummary(error) }, "stream close did not complete");
    entity.socket?.destroy();
  }
}
