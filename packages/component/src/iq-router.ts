// IQ routing by the namespace of the request's payload (RFC 6120 §8.2.3: an IQ get/set has
// exactly one payload child; an unsupported one is answered with service-unavailable).
import { xml, isElement, type Element } from "./xml.js";
import { StanzaErrorException } from "./stanza-error-exception.js";
import type { StanzaErrorSpec } from "./stanza-error.js";

export interface IqRequest {
  /** The whole IQ stanza as received. */
  stanza: Element;
  /** Its single payload child. */
  payload: Element;
  type: "get" | "set";
  from: string;
  to: string;
  id: string;
}

/** Returns the payload of the result (or nothing for an empty result). Throw StanzaErrorException to refuse. */
export type IqHandler = (
  request: IqRequest,
) => Promise<Element | undefined | void> | Element | undefined | void;

export interface IqHandlers {
  get?: IqHandler;
  set?: IqHandler;
}

/** What the router decided: a reply to send, built without copying the request's payload. */
export type IqOutcome =
  { kind: "result"; payload?: Element } | { kind: "error"; spec: StanzaErrorSpec; cause?: unknown };

export interface IqRouter {
  /** Registers handlers for payloads in `namespace` (optionally only element `name`). */
  handle(namespace: string, handlers: IqHandlers, name?: string): void;
  /** Decides the outcome of an IQ get/set. Never throws. */
  route(stanza: Element): Promise<IqOutcome>;
}

export function createIqRouter(): IqRouter {
  const byNamespace = new Map<string, { name?: string; handlers: IqHandlers }[]>();
  return {
    handle(namespace, handlers, name) {
      const list = byNamespace.get(namespace) ?? [];
      list.push({ handlers, ...(name ? { name } : {}) });
      byNamespace.set(namespace, list);
    },
    async route(stanza) {
      const type = stanza.attrs.type;
      if (type !== "get" && type !== "set")
        return { kind: "error", spec: { condition: "bad-request", text: "iq type must be get or set" } };
      // RFC 6120 §8.1.3: an IQ MUST carry an id; without one no reply can be matched, so no handler runs.
      if (!stanza.attrs.id)
        return { kind: "error", spec: { condition: "bad-request", text: "iq must have an id" } };
      const elements = stanza.children.filter(isElement);
      const payload = elements[0];
      if (!payload || elements.length !== 1)
        return {
          kind: "error",
          spec: { condition: "bad-request", text: "iq must have exactly one payload element" },
        };
      const namespace = payload.attrs.xmlns ?? "";
      const entry = byNamespace.get(namespace)?.find((e) => !e.name || e.name === payload.name);
      const handler = entry?.handlers[type];
      if (!handler) return { kind: "error", spec: { condition: "service-unavailable" } };
      try {
        const result = await handler({
          stanza,
          payload,
          type,
          from: stanza.attrs.from ?? "",
          to: stanza.attrs.to ?? "",
          id: stanza.attrs.id ?? "",
        });
        return result ? { kind: "result", payload: result } : { kind: "result" };
      } catch (error) {
        if (error instanceof StanzaErrorException) return { kind: "error", spec: error.spec };
        return { kind: "error", spec: { condition: "internal-server-error" }, cause: error };
      }
    },
  };
}

/** The `<iq type='result'/>` for a request. */
export function iqResult(request: Element, payload?: Element, from?: string): Element {
  return xml(
    "iq",
    { type: "result", id: request.attrs.id, from: from ?? request.attrs.to, to: request.attrs.from },
    payload ?? null,
  );
}
