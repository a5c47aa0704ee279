// @cordon/jid: the one JID normalisation (RFC 7622) of the store and every component.
export { foldLocalpart, foldDomainpart, foldResourcepart } from "./fold.js";
export { parseJid, bareJid, fullJid, toBare } from "./jid.js";
export type { Jid } from "./jid.js";
