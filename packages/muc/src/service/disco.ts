// Service and room discovery (XEP-0045 §6; XEP-0258 §"Discovery": label features on each room).
// Every room JID answers disco#info (Gajim refuses to join a room whose disco#info fails). The
// room's marking is in muc#roominfo and in the x-isode#roominfo_* fields Swift reads (docs/clients.md §2).
import { markingColours } from "@cordon/policy";
import { resultForm, type DiscoInfo, type DiscoItem, type DiscoQuery } from "@cordon/component";
import type { MucContext } from "./context.js";
import {
  NS_MAM,
  NS_MUC,
  NS_SEC_LABEL,
  NS_SEC_LABEL_CATALOG,
  NS_SID,
  NS_OCCUPANT_ID,
  NS_SELF_PING_OPT,
  NS_STABLE_ID,
  NS_MUC_ROOMINFO,
  ISODE_ROOMINFO_BG,
  ISODE_ROOMINFO_FG,
  ISODE_ROOMINFO_MARKING,
  NS_PING,
} from "../namespaces.js";

/** The features the service and every room announce (a room adds its own after them). */
const SERVICE_FEATURES: readonly string[] = [
  NS_MUC,
  NS_SEC_LABEL,
  NS_SEC_LABEL_CATALOG,
  NS_SID,
  NS_OCCUPANT_ID,
  NS_SELF_PING_OPT,
  NS_STABLE_ID,
];

export function discoInfo(ctx: MucContext, query: DiscoQuery): DiscoInfo | undefined {
  if (query.node) return undefined;
  const at = query.to.indexOf("@");
  if (at < 0) {
    return {
      identities: [{ category: "conference", type: "text", name: "Cordon labelled rooms" }],
      features: [...SERVICE_FEATURES],
    };
  }
  if (query.to.includes("/")) return undefined; // occupants are not discoverable through the room
  const room = ctx.rooms.get(query.to);
  if (!room || room.destroyed || room.locked) return undefined;
  const c = room.config;
  const features = [
    ...SERVICE_FEATURES,
    NS_PING,
    NS_MAM,
    c.membersOnly ? "muc_membersonly" : "muc_open",
    c.whois === "anyone" ? "muc_nonanonymous" : "muc_semianonymous",
    c.persistent ? "muc_persistent" : "muc_temporary",
    c.public ? "muc_public" : "muc_hidden",
    c.password ? "muc_passwordprotected" : "muc_unsecured",
    c.moderated ? "muc_moderated" : "muc_unmoderated",
  ];
  const label = room.security.label;
  const marking = label ? ctx.rendering.marking(label) : "";
  const colours = label ? markingColours(label.classification) : { fgcolor: undefined, bgcolor: undefined };
  const form = resultForm(NS_MUC_ROOMINFO, [
    { var: "muc#roominfo_description", label: "Description", values: [c.description] },
    // The subject is what occupants wrote in the room: only they see it (XEP-0045 §6.4 makes the
    // field optional), not anyone whose clearance may not cover the room label, nor an occupant
    // whose clearance cannot be determined now (store down).
    {
      var: "muc#roominfo_subject",
      label: "Subject",
      values: [room.byJid.get(query.from)?.clearance.status === "known" ? room.subject.text : ""],
    },
    { var: "muc#roominfo_occupants", label: "Number of occupants", values: [String(room.size)] },
    {
      var: "muc#roomconfig_roomname",
      label: "Name",
      values: [c.name || room.jid.slice(0, room.jid.indexOf("@"))],
    },
    { var: "sec-label#room-marking", label: "Room label", values: [marking] },
    { var: ISODE_ROOMINFO_MARKING, values: [marking] },
    { var: ISODE_ROOMINFO_FG, values: [colours.fgcolor ?? "black"] },
    { var: ISODE_ROOMINFO_BG, values: [colours.bgcolor ?? "white"] },
  ]);
  return {
    identities: [
      { category: "conference", type: "text", name: c.name || room.jid.slice(0, room.jid.indexOf("@")) },
    ],
    features,
    forms: [form],
  };
}

/** Public, configured rooms of the service (XEP-0045 §6.3); occupants are not listed (§6.5 allows hiding them). */
export function discoItems(ctx: MucContext, query: DiscoQuery): DiscoItem[] | undefined {
  if (query.node) return undefined;
  if (query.to.includes("@")) return ctx.rooms.has(query.to) ? [] : undefined;
  return [...ctx.rooms.values()]
    .filter((r) => r.config.public && !r.locked && !r.destroyed)
    .map((r) => ({ jid: r.jid, ...(r.config.name ? { name: r.config.name } : {}) }));
}
