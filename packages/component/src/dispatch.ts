// Incoming stanzas (RFC 6120 §8 https://www.rfc-editor.org/rfc/rfc6120#section-8) to their
// handlers: IQ results and errors to the requests awaiting them (iq-caller.ts), IQ get/set to
// the router (iq-router.ts, RFC 6120 §8.2.3) and its answer back to the sender, messages and
// presence to every registered handler. A handler that throws or rejects is logged, never
// allowed to end the process; an IQ it fails is answered internal-server-error by the router.
// First, a stanza with a part over its size bound (stanza-limits.ts) reaches no handler and no
// listener: it is refused with policy-violation (RFC 6120 §8.3.3.12) echoing nothing of it, not
// even its id when the id is what is too long (an IQ then goes unanswered: its error would need
// the id); an unavailable presence is honoured without its payload (leaving a room always works).
import { xml, type Element } from "./xml.js";
import type { IqCaller } from "./iq-caller.js";
import { iqResult, type IqRouter } from "./iq-router.js";
import type { Sender } from "./send.js";
import { isStopping, type LinkState } from "./link-state.js";
import { errorSummary, type Logger } from "./logger.js";
import { errorReply, isErrorStanza } from "./stanza-error.js";
import { StanzaTooLargeError } from "./errors.js";
import { oversizePart, type StanzaLimits, type StanzaPart } from "./stanza-limits.js";

export type StanzaHandler = (stanza: Element) => Promise<void> | void;

export interface Dispatcher {
  dispatch: (stanza: Element) => void;
  onMessage: (handler: StanzaHandler) => void;
  onPresence: (handler: StanzaHandler) => void;
}

export interface DispatchOptions {
  link: LinkState;
  logger: Logger;
  caller: Pick<IqCaller, "receive">;
  /** Read at each IQ (delegation.ts wraps its route()). */
  router: IqRouter;
  sender: Pick<Sender, "send" | "replyError">;
  /** When false, IQ get/set are left to `onStanza` listeners (a relay forwards them). */
  routeIqs: boolean;
  /** Every stanza, before its handlers (the `stanza` event). */
  onStanza(stanza: Element): void;
  limits: StanzaLimits;
  /** An incoming stanza with a part over its bound (for metrics). */
  onOversize(part: StanzaPart): void;
}

export function createDispatcher(options: DispatchOptions): Dispatcher {
  const { logger } = options;
  const messageHandlers: StanzaHandler[] = [];
  const presenceHandlers: StanzaHandler[] = [];

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
    if (options.caller.receive(stanza)) return;
    if (!options.routeIqs) return;
    options.router
      .route(stanza)
      .then((outcome) => {
        if (outcome.kind === "result")
          return options.sender.send(iqResult(stanza, outcome.payload)).catch((error: unknown) => {
            if (!(error instanceof StanzaTooLargeError)) throw error;
            // The answer would close the stream: the requester gets a short error instead.
            return options.sender.replyError(stanza, {
              condition: "resource-constraint",
              type: "cancel",
              text: "the answer would exceed the service's stanza size limit",
            });
          });
        if (outcome.cause)
          logger.error({ err: errorSummary(outcome.cause), ns: firstChildNs(stanza) }, "iq handler failed");
        return options.sender.replyError(stanza, outcome.spec);
      })
      .catch((error: unknown) => logger.warn({ err: errorSummary(error) }, "could not answer iq"));
  }

  /** What to dispatch instead of a stanza over a bound: nothing, or a leave without payload. */
  function bounded(stanza: Element): Element | undefined {
    const over = oversizePart(options.limits, stanza);
    if (!over) return stanza;
    options.onOversize(over.part);
    const id = over.part === "id" ? undefined : stanza.attrs.id;
    logger.warn(
      { stanza: stanza.name, type: stanza.attrs.type, part: over.part, limit: over.limit },
      "stanza part too large",
    );
    const { type, from, to } = stanza.attrs;
    if (stanza.name === "presence" && type === "unavailable") return xml("presence", { type, from, to, id });
    if (isErrorStanza(stanza) || !from || (stanza.name === "iq" && type !== "get" && type !== "set"))
      return undefined;
    // An IQ's error must carry its id (RFC 6120 §8.1.3; ejabberd ends the sender's session on one
    // without): an IQ whose id is what is too long is dropped, unanswered.
    if (stanza.name === "iq" && id === undefined) return undefined;
    const reply = errorReply(stanza, {
      condition: "policy-violation",
      type: "modify",
      text:
        over.part === "depth"
          ? `elements nested too deep (limit ${over.limit} levels)`
          : `${over.part} too large (limit ${over.limit} bytes)`,
    });
    if (id === undefined) delete reply.attrs.id;
    options.sender
      .send(reply)
      .catch((error: unknown) => logger.debug({ err: errorSummary(error) }, "could not refuse a stanza"));
    return undefined;
  }

  /**
   * Runs the `stanza` listeners; one that throws is logged and the stanza still reaches its
   * handlers. When IQs are left to listeners (a relay), an IQ request whose listener threw is
   * answered internal-server-error (RFC 6120 §8.2.3: every get/set gets an answer) and stops there.
   */
  function listened(stanza: Element): boolean {
    try {
      options.onStanza(stanza);
      return true;
    } catch (error) {
      logger.error({ err: errorSummary(error), stanza: stanza.name }, "stanza listener threw");
      const { type } = stanza.attrs;
      if (stanza.name !== "iq" || options.routeIqs) return true;
      if ((type === "get" || type === "set") && stanza.attrs.from && stanza.attrs.id !== undefined)
        options.sender
          .replyError(stanza, { condition: "internal-server-error", type: "wait" })
          .catch((e: unknown) => logger.debug({ err: errorSummary(e) }, "could not answer iq"));
      return false;
    }
  }

  return {
    dispatch(received) {
      if (isStopping(options.link)) return;
      try {
        const stanza = bounded(received);
        if (!stanza) return;
        if (!listened(stanza)) return;
        if (stanza.name === "iq") onIq(stanza);
        else if (stanza.name === "message") runHandlers(messageHandlers, stanza);
        else if (stanza.name === "presence") runHandlers(presenceHandlers, stanza);
      } catch (error) {
        logger.error({ err: errorSummary(error), stanza: received.name }, "stanza handler threw");
      }
    },
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onPresence(handler) {
      presenceHandlers.push(handler);
    },
  };
}

function firstChildNs(stanza: Element): string | undefined {
  const child = stanza.children.find((c): c is Element => typeof c === "object");
  return child?.attrs.xmlns;
}
