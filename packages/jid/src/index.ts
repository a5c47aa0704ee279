// @cordon/jid: the one JID normalisation (RFC 7622) of the store and every component.
export { foldLocalpart, foldDomainpart, foldResourcepart } from "./fold.js";
export { parseJid, bareJid, fullJid, toBare, jidMemoBytes, JID_MEMO_BYTES } from "./jid.js";
export type { Jid } from "./jid.js";
