// Namespaces the MUC speaks. Those other components speak too are defined once in
// @cordon/component (the XEP-0258 ones in @cordon/policy) and re-exported here.
export {
  NS_DATA,
  NS_DISCO_INFO,
  NS_FORWARD,
  NS_PING,
  NS_SEC_LABEL,
  NS_SEC_LABEL_CATALOG,
  NS_SEC_LABEL_ESS,
  NS_SID,
  NS_XHTML_IM,
} from "@cordon/component";
export const NS_MUC = "http://jabber.org/protocol/muc"; // XEP-0045 §19.1
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user"; // XEP-0045 §19.2
export const NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"; // XEP-0045 §19.3
export const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"; // XEP-0045 §19.4
export const NS_MUC_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig";
export const NS_MUC_ROOMINFO = "http://jabber.org/protocol/muc#roominfo";
export const NS_SELF_PING_OPT = "http://jabber.org/protocol/muc#self-ping-optimization"; // XEP-0410 §8
export const NS_STABLE_ID = "http://jabber.org/protocol/muc#stable_id";
export const NS_DELAY = "urn:xmpp:delay"; // XEP-0203
export const NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"; // XEP-0421
export const NS_CAPS = "http://jabber.org/protocol/caps"; // XEP-0115
export const NS_MAM = "urn:xmpp:mam:2"; // XEP-0313
export const NS_RSM = "http://jabber.org/protocol/rsm"; // XEP-0059
export const NS_ADDRESS = "http://jabber.org/protocol/address"; // XEP-0033 §10
export const NS_CONFERENCE = "jabber:x:conference"; // XEP-0249 (direct invitations, refused here)
/** Swift reads the room marking from these disco#info fields (docs/clients.md §2). */
export const ISODE_ROOMINFO_MARKING = "x-isode#roominfo_marking";
export const ISODE_ROOMINFO_FG = "x-isode#roominfo_marking_fg_color";
export const ISODE_ROOMINFO_BG = "x-isode#roominfo_marking_bg_color";
