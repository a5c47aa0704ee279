// The XMPP namespaces more than one Cordon component speaks, each defined once. The XEP-0258 ones
// are @cordon/policy's (it reads and writes labels without the runtime) and re-exported here, so
// a component imports every namespace from @cordon/component.
export {
  NS_SEC_LABEL,
  NS_SEC_LABEL_ESS,
  NS_SEC_LABEL_CATALOG,
  NS_SEC_LABEL_CATALOG_1,
  NS_SEC_LABEL_CATALOG_0,
} from "@cordon/policy";

/** RFC 6120 §4.8.3: the client namespace (stanzas a server forwards or wraps). */
export const NS_CLIENT = "jabber:client";
/** RFC 6120 §8.3.3: stanza error conditions. */
export const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** XEP-0030 §3, §4: service discovery. */
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
/** XEP-0004: data forms. */
export const NS_DATA = "jabber:x:data";
/** XEP-0071: XHTML-IM bodies. */
export const NS_XHTML_IM = "http://jabber.org/protocol/xhtml-im";
/** XEP-0199: XMPP ping. */
export const NS_PING = "urn:xmpp:ping";
/** XEP-0297: stanza forwarding. */
export const NS_FORWARD = "urn:xmpp:forward:0";
/** XEP-0359: unique and stable stanza ids. */
export const NS_SID = "urn:xmpp:sid:0";
/**
 * Cordon's guard protocol (@cordon/guard protocol.ts): the server modules ask the guard, and the
 * guard and Cordon's trusted components ask the modules (a session's address). Cordon's own,
 * versioned by its last segment.
 */
export const NS_GUARD = "urn:cordon:guard:0";
