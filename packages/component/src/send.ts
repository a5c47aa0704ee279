// The send paths, all through the bounded outgoing queue (outgoing-queue.ts): every stanza a
// component sends carries `from` and `to` (XEP-0114 §3; RFC 6120 §8.1.1, §8.1.2): `from`
// defaults to the component's domain, a stanza without `to` is refused before it reaches the
// socket (ejabberd closes the stream on one). Error replies follow RFC 6120 §8.3.
import type { Element } from "./xml.js";
import type { OutgoingQueue } from "./outgoing-queue.js";
import { writeWithBackpressure } from "./write-all.js";
import { errorReply, isErrorStanza, type StanzaErrorSpec } from "./stanza-error.js";
import { addressedStanza, rawStanzaName } from "./raw-stanza.js";
import { MissingAddressError } from "./errors.js";

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
}): Sender {
  const { domain, queue } = options;

  function prepare(stanza: Element): string {
    if (!stanza.attrs.from) stanza.attrs.from = domain;
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
    options.onQueued(1);
    return queue.push(data);
  }

  /** Many stanzas: waits for queue room instead of failing (write-all.ts). */
  async function writeAll(data: Iterable<string>): Promise<void> {
    await writeWithBackpressure(queue, data, options.onQueued);
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
