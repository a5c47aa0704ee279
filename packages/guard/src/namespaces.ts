// The guard protocol's namespace: a server module asks `<check/>`, the guard answers `<verdict/>`
// (protocol.ts; docs in packages/guard/README.md). Defined once in @cordon/component (the catalog
// asks the modules in it too).
export { NS_GUARD } from "@cordon/component";
/** The namespace of stanzas embedded in a check and a verdict (RFC 6120 §4.8.3). */
export const NS_CLIENT = "jabber:client";
