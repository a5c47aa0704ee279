// Whose catalog a room's catalog request asks for (XEP-0258 §5): the sender's; or, when a catalog
// service the MUC trusts (settings.catalogServices: component domains, which no client can send
// from) asks on behalf of a user, the user named in `<catalog from>`. That is how the catalog
// service answers, through the server's delegated route, for rooms the store does not hold
// (temporary rooms live only here: @cordon/catalog live-room.ts). A `from` from anyone else is
// refused: nobody learns which labels another user may use.
import { bareJid, foldDomainpart, parseJid, stanzaError, type IqRequest } from "@cordon/component";
import type { MucContext } from "./context.js";

/** The bare JID whose clearance the room catalog is computed for ("" when the sender has none). */
export function catalogRequester(ctx: Pick<MucContext, "settings">, request: IqRequest): string {
  const sender = parseJid(request.from);
  const onBehalf = request.payload.attrs.from;
  if (onBehalf === undefined) return sender ? bareJid(sender) : "";
  const trusted =
    sender !== undefined &&
    !sender.local &&
    !sender.resource &&
    (ctx.settings.catalogServices ?? []).some((d) => foldDomainpart(d) === sender.domain);
  if (!trusted)
    throw stanzaError("forbidden", "cancel", "catalog requests on behalf of others are not accepted");
  const user = parseJid(onBehalf);
  if (!user?.local || user.resource)
    throw stanzaError("bad-request", "modify", "the requester is not a user");
  return bareJid(user);
}
