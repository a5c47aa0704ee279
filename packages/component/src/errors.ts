// Cordon component runtime errors: one class per condition, each with a stable code
// (in the manner of undici's error catalog), so callers and logs can match on `code`
// (every code is listed in docs/errors.md).
import { CordonError } from "@cordon/errors";

/** Base of every error the component runtime throws at callers. */
export abstract class CordonComponentError extends CordonError {}

/** The server refused our handshake secret (XEP-0114 §3: stream error `not-authorized`). Fatal. */
export class AuthenticationFailedError extends CordonComponentError {
  readonly domain: string;
  constructor(domain: string) {
    super(
      "CORDON_COMPONENT_NOT_AUTHORIZED",
      `component ${domain}: the server rejected the secret (not-authorized); check the component secret on both sides`,
    );
    this.domain = domain;
  }
}

/** Another connection already serves this component domain (stream error `conflict`). Fatal. */
export class DomainConflictError extends CordonComponentError {
  readonly domain: string;
  constructor(domain: string) {
    super(
      "CORDON_COMPONENT_CONFLICT",
      `component ${domain}: another connection already serves this domain (conflict); is a second instance running?`,
    );
    this.domain = domain;
  }
}

/** The server does not know the component domain (stream error `host-unknown`). Fatal. */
export class UnknownDomainError extends CordonComponentError {
  readonly domain: string;
  constructor(domain: string) {
    super(
      "CORDON_COMPONENT_HOST_UNKNOWN",
      `component ${domain}: the server has no component declared for this domain (host-unknown)`,
    );
    this.domain = domain;
  }
}

/** start() was called on a component that is already started. */
export class ComponentAlreadyStartedError extends CordonComponentError {
  constructor(domain: string) {
    super("CORDON_COMPONENT_STARTED", `component ${domain}: already started`);
  }
}

/** A send could not be written because the component stayed offline past the send timeout. */
export class NotConnectedError extends CordonComponentError {
  constructor(domain: string, waitedMs: number) {
    super(
      "CORDON_COMPONENT_NOT_CONNECTED",
      `component ${domain}: not connected to the server after waiting ${waitedMs} ms`,
    );
  }
}

/** The bounded outgoing queue is full and the caller did not wait for room. */
export class QueueFullError extends CordonComponentError {
  constructor(domain: string, limit: number, maxBytes?: number) {
    super(
      "CORDON_COMPONENT_QUEUE_FULL",
      maxBytes === undefined
        ? `component ${domain}: outgoing queue full (${limit} stanzas waiting)`
        : `component ${domain}: outgoing queue full (${maxBytes} bytes waiting)`,
    );
  }
}

/** The component was stopped; pending and new sends fail with this. */
export class ComponentStoppedError extends CordonComponentError {
  constructor(domain: string) {
    super("CORDON_COMPONENT_STOPPED", `component ${domain}: stopped`);
  }
}

/** A stanza without a usable `to` (ejabberd closes the stream on one: docs/servers.md §2). */
export class MissingAddressError extends CordonComponentError {
  constructor(attribute: "to" | "from", stanzaName: string) {
    super(
      "CORDON_COMPONENT_MISSING_ADDRESS",
      `refusing to send <${stanzaName}/> without a '${attribute}' attribute`,
    );
  }
}

/** An IQ we sent was answered with an error, or not answered in time. */
export class IqError extends CordonComponentError {
  readonly condition: string;
  constructor(condition: string, text?: string) {
    super("CORDON_COMPONENT_IQ_ERROR", `iq error: ${condition}${text ? ` (${text})` : ""}`);
    this.condition = condition;
  }
}

export class IqTimeoutError extends CordonComponentError {
  constructor(timeoutMs: number) {
    super("CORDON_COMPONENT_IQ_TIMEOUT", `no answer to iq within ${timeoutMs} ms`);
  }
}

/** Bad configuration: names the key path and what was expected. */
export class ConfigError extends CordonComponentError {
  readonly key: string;
  constructor(key: string, message: string, file?: string) {
    super("CORDON_CONFIG_INVALID", `${file ? `${file}: ` : ""}${key}: ${message}`);
    this.key = key;
  }
}

/**
 * A stanza whose serialisation is over the configured `maxStanzaBytes` was not written: the server
 * would close the component's stream on it (docs/servers.md §2).
 */
export class StanzaTooLargeError extends CordonComponentError {
  readonly bytes: number;
  readonly limit: number;
  constructor(stanzaName: string, bytes: number, limit: number) {
    super(
      "CORDON_COMPONENT_STANZA_TOO_LARGE",
      `refusing to send <${stanzaName}/> of ${bytes} bytes: over maxStanzaBytes (${limit})`,
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}
