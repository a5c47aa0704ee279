// The catalog of a room the store does not hold: a temporary (non-persistent) room lives only in
// the memory of the MUC instance that hosts it, so the catalog service asks that room itself
// (XEP-0258 §5 catalog request addressed to the room, naming the requester in `<catalog from>`, as a
// server asks on behalf of its user). The MUC answers such a request only from the catalog
// domains it trusts (components.muc `catalogServices`) and judges the named requester's clearance;
// its answer is the room's catalog a client gets by asking the room directly. The request reaches
// the instance holding the room wherever it runs (another process, an ejabberd balancing slot).
import {
  IqError,
  IqTimeoutError,
  stanzaError,
  StanzaErrorException,
  xml,
  type CordonComponent,
  type Element,
  type ErrorCondition,
  type Logger,
} from "@cordon/component";

/** How long the MUC may take to answer (the client's own request waits meanwhile). */
export const LIVE_ROOM_TIMEOUT_MS = 5_000;

/**
 * The conditions of an error answer passed on to the client (with our own text); any other (the
 * server: no such MUC domain; the MUC: our domain is not in its catalogServices) is item-not-found.
 */
const PASSED_ON: ReadonlySet<string> = new Set<ErrorCondition>([
  "item-not-found",
  "internal-server-error",
  "resource-constraint",
]);

/** A room target the store does not hold: item-not-found, unless its MUC knows the room. */
export class RoomNotStored extends StanzaErrorException {
  constructor(readonly room: string) {
    super({ condition: "item-not-found", type: "cancel", text: "no such room" });
  }
}

/** A deep copy (the reply is re-parented by the router). */
function copy(el: Element): Element {
  return xml(el.name, { ...el.attrs }, ...el.children.map((c) => (typeof c === "string" ? c : copy(c))));
}

/**
 * The `<catalog/>` (in `namespace`) the MUC hosting `room` answers for `requester` (a bare JID).
 * Fails closed: no answer, an error or anything but a catalog → a stanza error, never a catalog.
 */
export async function liveRoomCatalog(
  component: CordonComponent,
  room: string,
  requester: string,
  namespace: string,
  timeoutMs = LIVE_ROOM_TIMEOUT_MS,
  logger?: Pick<Logger, "warn">,
): Promise<Element> {
  let result: Element;
  try {
    result = await component.request(
      xml("iq", { type: "get", to: room }, xml("catalog", { xmlns: namespace, to: room, from: requester })),
      timeoutMs,
    );
  } catch (error) {
    if (error instanceof IqError) {
      // The MUC refusing us: this domain is not in its catalogServices (a configuration error).
      if (error.condition === "forbidden")
        logger?.warn(
          { room },
          "room catalog: the MUC refused (is this catalog domain in its catalogServices?)",
        );
      const condition = PASSED_ON.has(error.condition)
        ? (error.condition as ErrorCondition)
        : "item-not-found";
      const type =
        condition === "internal-server-error" || condition === "resource-constraint" ? "wait" : "cancel";
      throw stanzaError(condition, type, condition === "item-not-found" ? "no such room" : undefined);
    }
    if (error instanceof IqTimeoutError)
      throw stanzaError("internal-server-error", "wait", "the room's service did not answer");
    throw error;
  }
  const catalog = result.getChild("catalog", namespace);
  if (!catalog) throw stanzaError("internal-server-error", "wait", "the room's service did not answer");
  return copy(catalog);
}
