// XEP-0258 §5 catalog for a room (https://xmpp.org/extensions/xep-0258.html#label-catalog), when a
// client asks the room directly. The rule is the catalog service's (`roomCatalog` in
// @cordon/catalog, so both answers agree): the named labels the requester's clearance grants,
// within the room clearance and the service clearance, and that the asking session's location
// grants (the guard's client-location rule, security/occupant-location.ts); the room's default label first (Gajim
// preselects the first labelled item and drops unlabelled ones: docs/clients.md §1).
import { roomCatalog, catalogElement, emptyCatalog, type CatalogSpec } from "@cordon/catalog";
import type { Element } from "@cordon/component";
import type { Room } from "../room/room.js";
import type { MucContext } from "./context.js";
import type { ClearanceState, ClientLocation } from "@cordon/rules";
import { locationGrants } from "../security/occupant-location.js";
import { serviceGrants, type ServiceBound } from "../security/service-clearance.js";

export function roomCatalogElement(
  ctx: MucContext,
  room: Room,
  requester: ClearanceState,
  requestTo: string,
  /** The service clearance now (readServiceBound): unknown offers nothing, as the catalog service. */
  service: ServiceBound,
  /** Where the asking session is (security/occupant-location.ts): only the labels it grants. */
  location: ClientLocation | undefined,
): Element {
  const name = room.config.name || room.jid;
  if (requester.status !== "known" || service.status !== "known")
    return catalogElement(emptyCatalog(requestTo, name));
  const spec: CatalogSpec = {
    name,
    desc: `Labels usable in ${room.jid}`,
    restrict: true,
    items: ctx.settings.namedLabels
      .filter(
        (n) => serviceGrants(ctx.labels, service, n.label) && locationGrants(ctx, { location }, n.label),
      )
      .map((n) => ({ selector: n.name, label: n.label })),
  };
  const catalog = roomCatalog({
    to: requestTo,
    spec,
    // The requester's clearance judges each label as its own policy says it (@cordon/rules
    // translation.ts): a user governed by an equivalent policy is offered what it may send.
    requester: (label) => ctx.labels.grants(label, requester.clearance),
    room: {
      ...(room.security.clearance ? { clearance: room.security.clearance } : {}),
      ...(room.security.label ? { label: room.security.label } : {}),
      ...(room.security.defaultLabel ? { defaultLabel: room.security.defaultLabel } : {}),
      restrict: true,
    },
  });
  return catalogElement(catalog);
}
