// Strings a room keeps for as long as it or an occupant lives (JIDs, nicks, presence payloads) are
// cut from the parsed stanza, and V8 keeps a substring's whole parent alive: an attribute value is
// a slice of the network chunk it arrived in (up to 64 KiB), a serialised payload a tree of such
// slices. Kept as is, each occupant held on to the chunk its join arrived in (issue 19: measured
// by bench/muc-scale.mjs). `ownString` returns a flat copy that shares nothing with its source.
import { internalized } from "@cordon/policy";

/**
 * A flat copy of `s` holding no reference to the string it was cut from (exact, any UTF-16): the
 * engine's one copy (`internalized`, @cordon/policy intern.ts), ≈ 0.35 µs for 500 characters
 * against ≈ 1.4–1.9 µs for the JSON round trip used before (session 15; every groupchat message
 * kept in history is copied so).
 */
export function ownString(s: string): string {
  return s.length === 0 ? "" : internalized(s);
}
