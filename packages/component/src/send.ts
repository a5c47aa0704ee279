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
import { addressedStanza, copyHead, rawStanzaName } from "./raw-stanza.js";
import { escapeXml } from "./xml.js";
import { serialise } from "./serialise.js";
import { MissingAddressError, StanzaTooLargeError } from "./errors.js";
import { serialisedFits, type StanzaLimits } from "./stanza-limits.js";
import type { Logger } from "./logger.js";

/**
 * Copies of one stanza for many recipients (a MUC fan-out): copy k is
 * `head + ' to="' + escaped to[k] + '">' + payload[k]`.
 */
export interface StanzaCopies {
  /** The start tag up to its `to`: a stanza name and `from`, no `to`, not closed (`<message from="…" type="…"`). */
  head: string;
  /** Each copy's recipient, a JID as is (escaped here). */
  to: readonly string[];
  /** Each copy's rest: the start tag's close excluded, the end tag included. Shared strings are fine. */
  payload: readonly string[];
}

/**
 * Whether `value` needs no escaping in an attribute value (none of `& < > ' "` and no tab, line
 * feed or carriage return: escapeXml would return it unchanged). A loop, not escapeXml's regular
 * expression replace, for the one value each copy adds (a JID, which almost never has any).
 */
function plainAttr(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 38 || c === 60 || c === 62 || c === 39 || c === 34 || c === 9 || c === 10 || c === 13)
      return false;
  }
  return true;
}

export interface Sender {
  send: (stanza: Element) => Promise<void>;
  sendAll: (stanzas: Iterable<Element>) => Promise<void>;
  sendRaw: (stanzas: Iterable<string>) => Promise<void>;
  sendCopies: (copies: StanzaCopies) => Promise<void>;
  replyError: (stanza: Element, spec: StanzaErrorSpec, from?: string) => Promise<void>;
}

export function createSender(options: {
  domain: string;
  queue: Pick<OutgoingQueue, "push" | "pushMany" | "full" | "room">;
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
    return serialise(stanza);
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
   * left out, the others are written, and then the call fails with its error. `addressed`: each
   * must be a stanza naming `from` and `to` (raw XML); at the first that is not, nothing more is
   * taken and the call fails with MissingAddressError. The checks run in a plain loop over the
   * items (no generator per call: two nested ones cost ~2 µs a copy on the fan-out path, issue 19).
   */
  async function writeAll(data: Iterable<string>, addressed: boolean): Promise<void> {
    let tooLarge: StanzaTooLargeError | undefined;
    await writeWithBackpressure(queue, data, options.onQueued, (item) => {
      if (addressed && !addressedStanza(item)) throw new MissingAddressError("to", rawStanzaName(item));
      const error = oversize(item);
      if (error) tooLarge ??= error;
      return error === undefined;
    });
    if (tooLarge) throw tooLarge;
  }

  return {
    send,
    sendAll(stanzas) {
      return writeAll(
        (function* () {
          for (const stanza of stanzas) yield prepare(stanza);
        })(),
        false,
      );
    },
    sendRaw(stanzas) {
      return writeAll(stanzas, true);
    },
    /**
     * What sendRaw checks, checked on the parts: the head once (a stanza with `from` and no `to`),
     * each recipient non-empty, each copy within the size bound. The copies are never read whole
     * here: sendRaw's scan of each copy's start tag made the runtime copy every concatenated
     * copy into a flat string first (issue 19: ~0.5 µs a copy); the socket write joins them once.
     */
    async sendCopies({ head, to, payload }) {
      if (!copyHead(head)) throw new MissingAddressError("to", rawStanzaName(head));
      if (to.length !== payload.length) throw new TypeError("sendCopies: as many payloads as recipients");
      const start = `${head} to="`;
      const copies: string[] = [];
      let missing: MissingAddressError | undefined;
      for (let k = 0; k < to.length; k++) {
        const jid = to[k] as string;
        if (jid.length === 0) {
          missing = new MissingAddressError("to", rawStanzaName(head));
          break;
        }
        copies.push(`${start}${plainAttr(jid) ? jid : escapeXml(jid)}">${payload[k] as string}`);
      }
      try {
        await writeAll(copies, false);
      } catch (error) {
        throw missing ?? error;
      }
      if (missing) throw missing;
    },
    // Never an answer to an error (RFC 6120 §8.3.1), never a copy of the payload (stanza-error.ts).
    replyError(stanza, spec, from) {
      if (isErrorStanza(stanza) || !stanza.attrs.from) return Promise.resolve();
      return send(errorReply(stanza, spec, from));
    },
  };
}
