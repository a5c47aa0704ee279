// Incoming stanzas (RFC 6120 §8 https://www.rfc-editor.org/rfc/rfc6120#section-8) to their
// handlers: IQ results and errors to the requests awaiting them (iq-caller.ts), IQ get/set to
// the router (iq-router.ts, RFC 6120 §8.2.3) and its answer back to the sender, messages and
// presence to every registered handler. A handler that throws or rejects is logged, never
// allowed to end the process; an IQ it fails is answered internal-server-error by the router.
import type { Element } from "./xml.js";
import type { IqCaller } from "./iq-caller.js";
import { iqResult, type IqRouter } from "./iq-router.js";
import type { Sender } from "./send.js";
import { isStopping, type LinkState } from "./link-state.js";
import { errorSummary, type Logger } from "./logger.js";

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
        if (outcome.kind === "result") return options.sender.send(iqResult(stanza, outcome.payload));
        if (outcome.cause)
          logger.error({ err: errorSummary(outcome.cause), ns: firstChildNs(stanza) }, "iq handler failed");
        return options.sender.replyError(stanza, outcome.spec);
      })
      .catch((error: unknown) => logger.warn({ err: errorSummary(error) }, "could not answer iq"));
  }

  return {
    dispatch(stanza) {
      if (isStopping(options.link)) return;
      try {
        options.onStanza(stanza);
        if (stanza.name === "iq") onIq(stanza);
        else if (stanza.name === "message") runHandlers(messageHandlers, stanza);
        else if (stanza.name === "presence") runHandlers(presenceHandlers, stanza);
      } catch (error) {
        logger.error({ err: errorSummary(error), stanza: stanza.name }, "stanza handler threw");
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
