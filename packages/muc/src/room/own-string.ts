// Strings a room keeps for as long as it or an occupant lives (JIDs, nicks, presence payloads) are
// cut from the parsed stanza, and V8 keeps a substring's whole parent alive: an attribute value is
// a slice of the network chunk it arrived in (up to 64 KiB), a serialised payload a tree of such
// slices. Kept as is, each occupant held on to the chunk its join arrived in (issue 19: measured
// by bench/muc-scale.mjs). `ownString` returns a flat copy that shares nothing with its source.

/** A flat copy of `s` holding no reference to the string it was cut from (exact, any UTF-16). */
export function ownString(s: string): string {
  if (s.length === 0) return "";
  // JSON escapes lone surrogates and restores them: the copy is exact; the parser builds it flat.
  return JSON.parse(JSON.stringify(s)) as string;
}
