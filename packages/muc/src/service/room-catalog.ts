// XEP-0258 §5 catalog for a room (https://xmpp.org/extensions/xep-0258.html#label-catalog): the
// named labels the requester may use there — within the room clearance and the service clearance,
// and granted by the requester's clearance. The room's default label is the default item and comes
// first (Gajim preselects the first labelled item and drops unlabelled ones: design.md §4).
import { acdf, type Label } from "@cordon/policy";
import { xml, parseElement, type Element } from "@cordon/component";
import { createHash } from "node:crypto";
import type { Room } from "../room/room.js";
import type { MucContext, NamedLabel } from "./context.js";
import type { ClearanceState } from "../security/clearance-state.js";
import { NS_SEC_LABEL_CATALOG } from "../namespaces.js";

export function roomCatalogLabels(ctx: MucContext, room: Room, requester: ClearanceState): { items: NamedLabel[]; defaultLabel: Label | undefined } {
  if (requester.kind !== "known") return { items: [], defaultLabel: undefined };
  const usable = (label: Label) =>
    acdf(label, requester.clearance).granted &&
    acdf(label, room.security.clearance).granted &&
    (!ctx.settings.serviceClearance || acdf(label, ctx.settings.serviceClearance).granted);
  const items = ctx.settings.namedLabels.filter((n) => usable(n.label));
  const defaultLabel = room.security.defaultLabel && usable(room.security.defaultLabel) ? room.security.defaultLabel : undefined;
  if (defaultLabel) {
    const index = items.findIndex((n) => n.label === defaultLabel);
    const entry = index >= 0 ? items.splice(index, 1)[0]! : { name: ctx.rendering.marking(defaultLabel), label: defaultLabel };
    items.unshift(entry);
  }
  return { items, defaultLabel };
}

export function roomCatalogElement(ctx: MucContext, room: Room, requester: ClearanceState, requestTo: string): Element {
  const { items, defaultLabel } = roomCatalogLabels(ctx, room, requester);
  const children = items.map((n) =>
    `<item selector="${n.name.replace(/["&<>]/g, "")}"${n.label === defaultLabel ? ` default="true"` : ""}>${ctx.rendering.securityLabelXml(n.label)}</item>`,
  );
  const content = children.join("");
  const id = createHash("sha256").update(content).digest("hex").slice(0, 16);
  const catalog = xml("catalog", {
    xmlns: NS_SEC_LABEL_CATALOG,
    to: requestTo,
    name: room.config.name || room.jid,
    desc: `Labels usable in ${room.jid}`,
    id,
    size: String(items.length),
    restrict: "true",
  });
  for (const child of children) catalog.append(parseElement(child)); // policy-rendered label XML
  return catalog;
}
