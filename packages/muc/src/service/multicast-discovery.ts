// XEP-0033 §2 (Discovering Server Support): before the MUC hands a fan-out to `multicast.service`
// it asks that entity's disco#info and uses it only when it answers as a multicast service
// (feature `http://jabber.org/protocol/address`; ejabberd's mod_multicast does). Fail closed: with
// no such local service (Prosody 0.12 has none; a typo; mod_multicast not loaded) the server would
// route the stanza on — with s2s on, to whatever that name resolves to — carrying the labelled
// payload and the JIDs of every recipient. No answer, an error or no feature: per copy, one warning.
import { xml } from "@cordon/component";
import { NS_ADDRESS, NS_DISCO_INFO } from "../namespaces.js";
import type { MucContext } from "./context.js";

/** How long start() waits for the service's disco#info. */
export const DISCOVERY_TIMEOUT_MS = 5000;

/** Asks the service's disco#info; sets `multicast.verified`; resolves whether it is one. */
export async function discoverMulticast(
  ctx: Pick<MucContext, "multicast" | "component" | "settings" | "logger">,
  timeoutMs = DISCOVERY_TIMEOUT_MS,
): Promise<boolean> {
  const multicast = ctx.multicast;
  if (!multicast) return false;
  const service = multicast.settings.service;
  let ok = false;
  try {
    const result = await ctx.component.request(
      xml(
        "iq",
        { type: "get", to: service, from: ctx.settings.domain },
        xml("query", { xmlns: NS_DISCO_INFO }),
      ),
      timeoutMs,
    );
    ok =
      result.attrs.type === "result" &&
      (result.attrs.from ?? "").toLowerCase() === service &&
      (result
        .getChild("query", NS_DISCO_INFO)
        ?.getChildren("feature")
        .some((f) => f.attrs.var === NS_ADDRESS) ??
        false);
  } catch {
    ok = false;
  }
  multicast.verified = ok;
  if (ok) ctx.logger.info({ service }, "XEP-0033 multicast service discovered: fan-out through it");
  else
    ctx.logger.warn(
      { service },
      "XEP-0033 multicast service not found (no disco#info answer with the address feature): per-copy delivery",
    );
  return ok;
}
