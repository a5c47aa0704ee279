// The send paths, all through the bounded outgoing queue (outgoing-queue.ts): every stanza a
// component sends carries `from` and `to` (XEP-0114 §3; RFC 6120 §8.1.1, §8.1.2): `from`
// defaults to the component's domain, a stanza without `to` is refused before it reaches the
// socket (ejabberd closes the stream on one). Error replies follow RFC 6120 §8.3. A stanza whose
// serialisation is over `maxStanzaBytes` is never written (the server would close the stream on it,
// stanza-limits.ts): it is counted (`onOversize`), logged without its content, and its caller gets
// StanzaTooLargeError; in a batch the other stanzas are still written.
import type { Element } from "./xml.js";
import type { OutgoingQueue } from "./outgoing-queue.js";
import { writeWithBackpressure } from "./write-all.js";
import { errorReply, isErrorStanza, type StanzaErrorSpec } from "./stanza-error.js";
import { addressedStanza, rawStanzaName } from "./raw-stanza.js";
import { MissingAddressError, StanzaTooLargeError } from "./errors.js";
import { serialisedFits, type StanzaLimits } from "./stanza-limits.js";
import type { Logger } from "./logger.js";

export interface Sender {
  send: (stanza: Element) => Promise<void>;
  sendAll: (stanzas: Iterable<Element>) => Promise<void>;
  sendRaw: (stanzas: Iterable<string>) => Promise<void>;
  replyError: (stanza: Element, spec: StanzaErrorSpec, from?: string) => Promise<void>;
}

export function createSender(options: {
  domain: string;
  queue: Pick<OutgoingQueue, "push" | "full" | "room">;
  /** Stanzas handed to the queue (once per call, for metrics). */
  onQueued: (count: number) => void;
  limits: Pick<StanzaLimits, "maxStanzaBytes">;
  /** A stanza not written because it was over the bound (for metrics). */
  onOversize: () => void;
  logger: Logger;
}): Sender {
  const { domain, queue, limits } = options;

  function prepare(stanza: Element): string {
    if (!stanza.attrs.from) stanza.attrs.from = domain;
    if (!stanza.attrs.to) throw new MissingAddressError("to", stanza.name);
    return stanza.toString();
  }

  /** The error for serialised XML over the bound, counted and logged; undefined when it fits. */
  function oversize(data: string): StanzaTooLargeError | undefined {
    if (serialisedFits(limits, data)) return undefined;
    const name = rawStanzaName(data);
    const error = new StanzaTooLargeError(name, Buffer.byteLength(data), limits.maxStanzaBytes);
    options.onOversize();
    // Never the content: the stanza's name and sizes only.
    options.logger.warn(
      { stanza: name, bytes: error.bytes, limit: error.limit },
      "stanza too large, not sent",
    );
    return error;
  }

  function send(stanza: Element): Promise<void> {
    let data: string;
    try {
      data = prepare(stanza);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const tooLarge = oversize(data);
    if (tooLarge) return Promise.reject(tooLarge);
    options.onQueued(1);
    return queue.push(data);
  }

  /**
   * Many stanzas: waits for queue room instead of failing (write-all.ts). One over the bound is
   * left out, the others are written, and then the call fails with its error.
   */
  async function writeAll(data: Iterable<string>): Promise<void> {
    let tooLarge: StanzaTooLargeError | undefined;
    await writeWithBackpressure(
      queue,
      (function* () {
        for (const item of data) {
          const error = oversize(item);
          if (error) tooLarge ??= error;
          else yield item;
        }
      })(),
      options.onQueued,
    );
    if (tooLarge) throw tooLarge;
  }

  return {
    send,
    sendAll(stanzas) {
      return writeAll(
        (function* () {
          for (const stanza of stanzas) yield prepare(stanza);
        })(),
      );
    },
    sendRaw(stanzas) {
      return writeAll(
        (function* () {
          for (const data of stanzas) {
            if (!addressedStanza(data)) throw new MissingAddressError("to", rawStanzaName(data));
            yield data;
          }
        })(),
      );
    },
    // Never an answer to an error (RFC 6120 §8.3.1), never a copy of the payload (stanza-error.ts).
    replyError(stanza, spec, from) {
      if (isErrorStanza(stanza) || !stanza.attrs.from) return Promise.resolve();
      return send(errorReply(stanza, spec, from));
    },
  };
}
