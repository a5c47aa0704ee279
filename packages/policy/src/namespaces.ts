// The XEP-0258 namespaces (https://xmpp.org/extensions/xep-0258.html), each defined once. The
// policy package reads and writes labels in them without the component runtime; @cordon/component
// re-exports them with the other XMPP namespaces, so components import every namespace from there.
/** XEP-0258 §3: the `<securitylabel/>` element. */
export const NS_SEC_LABEL = "urn:xmpp:sec-label:0";
/** XEP-0258 §3.1: an ESS security label (RFC 2634), DER in base64. */
export const NS_SEC_LABEL_ESS = "urn:xmpp:sec-label:ess:0";
/** XEP-0258 §5: label catalogs (the current version, 2, and the older 1 and 0). */
export const NS_SEC_LABEL_CATALOG = "urn:xmpp:sec-label:catalog:2";
export const NS_SEC_LABEL_CATALOG_1 = "urn:xmpp:sec-label:catalog:1";
export const NS_SEC_LABEL_CATALOG_0 = "urn:xmpp:sec-label:catalog:0";
