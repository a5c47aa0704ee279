// The guard protocol's namespace: a server module asks `<check/>`, the guard answers `<verdict/>`
// (protocol.ts; docs in packages/guard/README.md). Cordon's own, versioned by its last segment.
export const NS_GUARD = "urn:cordon:guard:0";
/** The namespace of stanzas embedded in a check and a verdict (RFC 6120 §4.8.3). */
export const NS_CLIENT = "jabber:client";
