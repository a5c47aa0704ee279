// IQs we send (RFC 6120 §8.2.3 https://www.rfc-editor.org/rfc/rfc6120#section-8.2.3): every get
// or set is answered by exactly one result or error carrying the same id; request() awaits it.
// An answer is matched by its id AND its sender: it must come from the entity the request was
// addressed to (RFC 6120 §8.2.3, §10.3 — the server answers for an account's bare or full JID from
// that JID), so a third party who learns or guesses an id cannot answer in its place.
import { randomBytes } from "node:crypto";
import { fullJid, parseJid } from "@cordon/jid";
import type { Element } from "./xml.js";
import { readStanzaError } from "./stanza-error.js";
import { IqError, IqTimeoutError } from "./errors.js";

export interface IqCaller {
  /** Sends an IQ get/set (adds a random id if it has none); resolves with the result stanza. */
  request: (iq: Element, timeoutMs?: number) => Promise<Element>;
  /** Settles the request an IQ result/error answers; false for any other stanza (it is not ours). */
  receive: (stanza: Element) => boolean;
  /** Fails every request still waiting (stop, fatal error). */
  rejectAll: (error: Error) => void;
}

interface Pending {
  /** The normalised JID the request was sent to: the only one that may answer it. */
  peer: string | undefined;
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function createIqCaller(options: {
  send(stanza: Element): Promise<void>;
  /** Default timeout of request(). */
  timeoutMs: number;
}): IqCaller {
  const pending = new Map<string, Pending>();
  return {
    request(stanza, timeoutMs = options.timeoutMs) {
      const id = stanza.attrs.id ?? `c${randomBytes(8).toString("hex")}`;
      stanza.attrs.id = id;
      return new Promise<Element>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new IqTimeoutError(timeoutMs));
        }, timeoutMs);
        pending.set(id, { peer: normalised(stanza.attrs.to), resolve, reject, timer });
        options.send(stanza).catch((error: Error) => {
          clearTimeout(timer);
          pending.delete(id);
          reject(error);
        });
      });
    },
    receive(stanza) {
      const type = stanza.attrs.type;
      if (stanza.name !== "iq" || (type !== "result" && type !== "error")) return false;
      const id = stanza.attrs.id;
      const waiting = id ? pending.get(id) : undefined;
      if (!waiting || !id) return true;
      // Not from the addressee: not the answer (consumed, the request keeps waiting).
      if (normalised(stanza.attrs.from) !== waiting.peer) return true;
      pending.delete(id);
      clearTimeout(waiting.timer);
      if (type === "result") waiting.resolve(stanza);
      else {
        const { condition, text } = readStanzaError(stanza);
        waiting.reject(new IqError(condition, text));
      }
      return true;
    },
    rejectAll(error) {
      for (const [id, waiting] of pending) {
        clearTimeout(waiting.timer);
        waiting.reject(error);
        pending.delete(id);
      }
    },
  };
}

function normalised(jid: string | undefined): string | undefined {
  const parsed = jid === undefined ? undefined : parseJid(jid);
  return parsed ? fullJid(parsed) : undefined;
}
